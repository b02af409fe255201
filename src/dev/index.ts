/** Development helpers: SIMULATED hardware only. Runtime-neutral (the Node file helpers are in files.ts). */
export {
  createDevelopmentEnvironment,
  DEV_KEY_POLICY,
  DEV_MANIFEST_NAME,
  DEV_MEASUREMENT_LABELS,
  type DevelopmentEnvironment,
  DevSnpPlatform,
  developmentManifestText,
} from './environment.js';
