/**
 * The members each object of the manifest accepts: the one table both the parser
 * (`parse-manifest.ts`) and the JSON Schema (`manifests/manifest.schema.json`, whose `$defs` carry
 * the same names) are held to. `test/policy/schema.test.ts` fails when the two drift apart.
 * Anything not listed is rejected ("unknown field") at every level.
 */
export interface FieldSpec {
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

export const MANIFEST_FIELDS = {
  manifest: { required: ['version', 'name', 'trustAnchors', 'roles', 'keyPolicy'], optional: ['gateway'] },
  gateway: { required: ['uploadKey'], optional: ['note'] },
  trustAnchors: { required: ['snp'], optional: ['tdx', 'nvidia'] },
  tdxTrustAnchor: { required: ['sha256'], optional: ['simulated', 'note'] },
  snpTrustAnchor: { required: ['sha256', 'product'], optional: ['simulated', 'note'] },
  nvidiaTrustAnchor: { required: ['sha256', 'use'], optional: ['simulated', 'note'] },
  roles: { required: [], optional: ['attestation-service', 'worker'] },
  /** At least one of `snp` and `tdx` (a parser-only rule). */
  roleReference: { required: [], optional: ['snp', 'tdx', 'gpu', 'note'] },
  /** The worker role adds `model` (only the worker sends prompts to a model). */
  workerRoleReference: { required: [], optional: ['snp', 'tdx', 'gpu', 'model', 'note'] },
  modelRules: { required: ['endpoints'], optional: ['apiKey'] },
  tdxReferenceValues: {
    required: ['mrTd'],
    optional: [
      'rtmr0',
      'rtmr1',
      'rtmr2',
      'rtmr3',
      'mrConfigId',
      'mrOwner',
      'mrOwnerConfig',
      'mrSeam',
      'tdAttributesAllowed',
      'tdAttributesRequired',
      'xfam',
      'minimumTeeTcbSvn',
      'tcbStatuses',
      'advisoryIds',
      'eventDigests',
    ],
  },
  tdxEventDigestRule: { required: ['rtmr', 'eventType', 'digests'], optional: [] },
  gpuReferenceValues: {
    required: ['count', 'architecture', 'driverVersions', 'vbiosVersions', 'measurements'],
    optional: ['allowMissingFwid', 'ocsp'],
  },
  gpuCount: { required: ['min', 'max'], optional: [] },
  gpuMeasurements: { required: ['source'], optional: ['golden'] },
  gpuGoldenMeasurement: { required: ['index', 'values'], optional: [] },
  snpReferenceValues: {
    required: ['measurements', 'minimumTcb'],
    optional: [
      'signingKeys',
      'policy',
      'platformInfo',
      'minimumLaunchTcb',
      'vmpl',
      'hostData',
      'idKeyDigests',
      'authorKeyDigests',
      'chipIds',
      'minimumGuestSvn',
      'allowProvisionalFirmware',
      'familyId',
      'imageId',
    ],
  },
  snpGuestPolicyRules: {
    required: [],
    optional: [
      'allowDebug',
      'allowMigrationAgent',
      'allowSmt',
      'requireSingleSocket',
      'minAbi',
      'allowCxl',
      'requireMemAes256Xts',
      'requireRaplDisabled',
      'requireCiphertextHiding',
      'requirePageSwapDisabled',
    ],
  },
  snpPlatformInfoRules: {
    required: [],
    optional: [
      'allowSmt',
      'allowTsme',
      'requireEcc',
      'requireRaplDisabled',
      'requireCiphertextHiding',
      'requireAliasCheck',
      'allowTio',
    ],
  },
  abiVersion: { required: ['major', 'minor'], optional: [] },
  snpTcbMinimums: { required: [], optional: ['Milan', 'Genoa', 'Turin'] },
  /** Milan and Genoa TCB_VERSION: no FMC SPL. */
  snpTcbMinimumMilanGenoa: { required: ['bootloader', 'tee', 'snp', 'microcode'], optional: [] },
  /** Turin TCB_VERSION adds the FMC SPL (byte 0). */
  snpTcbMinimumTurin: { required: ['fmc', 'bootloader', 'tee', 'snp', 'microcode'], optional: [] },
  keyPolicy: { required: ['rotationIntervalSeconds', 'overlapSeconds', 'lifetimeSeconds'], optional: [] },
} as const satisfies Record<string, FieldSpec>;

export type ManifestObjectName = keyof typeof MANIFEST_FIELDS;

/** Numeric bounds the parser enforces (and the schema repeats). */
export const LIMITS = {
  nameMaxLength: 128,
  /** A model endpoint entry (a URL) in `roles.worker.model.endpoints`. */
  endpointMaxLength: 2048,
  noteMaxLength: 512,
  /** TCB_VERSION components and ABI_MAJOR/ABI_MINOR are 8-bit fields. */
  u8Max: 255,
  /** GUEST_SVN is 32 bits. */
  u32Max: 0xffff_ffff,
  /** VMPL 0..3: the four Virtual Machine Privilege Levels (AMD APM vol. 2, "VMPL"). */
  vmplMax: 3,
  /** `tdx.eventDigests`: RTMR0..3. */
  rtmrMax: 3,
  /** GPUs per role: an 8-GPU HGX board is the largest Hopper system. */
  gpuCountMax: 8,
  /** SPDM measurement block indices are 1..0xFE (DSP0274). */
  gpuBlockIndexMax: 254,
  /** Driver and VBIOS version strings. */
  gpuVersionMaxLength: 32,
  /** Rotating faster than a minute only multiplies re-attestation; slower than 30 days keeps a
   *  leaked KEK useful for too long. */
  rotationIntervalSeconds: { min: 60, max: 30 * 24 * 3600 },
  overlapSeconds: { min: 1, max: 30 * 24 * 3600 },
  /** A KEK's not-after bounds how long a gateway may keep serving while the service is unreachable. */
  lifetimeSeconds: { min: 60, max: 90 * 24 * 3600 },
} as const;
