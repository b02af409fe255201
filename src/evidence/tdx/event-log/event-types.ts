/**
 * Event types of the TCG PC Client Platform Firmware Profile (PFP) spec, §10.4.1 "Event Types",
 * that a UEFI CC event log (TDVF, UEFI spec 2.10 §38.4 EFI_CC_MEASUREMENT_PROTOCOL) carries. Names are
 * what the manifest's `tdx.eventDigests` rules use; a type outside this table is still parsed and
 * replayed, and shown by number.
 */
export const EV_NO_ACTION = 0x0000_0003;

export const EVENT_TYPES = {
  EV_POST_CODE: 0x0000_0001,
  EV_NO_ACTION,
  EV_SEPARATOR: 0x0000_0004,
  EV_ACTION: 0x0000_0005,
  EV_EVENT_TAG: 0x0000_0006,
  EV_S_CRTM_CONTENTS: 0x0000_0007,
  EV_S_CRTM_VERSION: 0x0000_0008,
  EV_CPU_MICROCODE: 0x0000_0009,
  EV_PLATFORM_CONFIG_FLAGS: 0x0000_000a,
  EV_TABLE_OF_DEVICES: 0x0000_000b,
  EV_COMPACT_HASH: 0x0000_000c,
  EV_IPL: 0x0000_000d,
  EV_IPL_PARTITION_DATA: 0x0000_000e,
  EV_NONHOST_CODE: 0x0000_000f,
  EV_NONHOST_CONFIG: 0x0000_0010,
  EV_NONHOST_INFO: 0x0000_0011,
  EV_OMIT_BOOT_DEVICE_EVENTS: 0x0000_0012,
  EV_EFI_VARIABLE_DRIVER_CONFIG: 0x8000_0001,
  EV_EFI_VARIABLE_BOOT: 0x8000_0002,
  EV_EFI_BOOT_SERVICES_APPLICATION: 0x8000_0003,
  EV_EFI_BOOT_SERVICES_DRIVER: 0x8000_0004,
  EV_EFI_RUNTIME_SERVICES_DRIVER: 0x8000_0005,
  EV_EFI_GPT_EVENT: 0x8000_0006,
  EV_EFI_ACTION: 0x8000_0007,
  EV_EFI_PLATFORM_FIRMWARE_BLOB: 0x8000_0008,
  EV_EFI_HANDOFF_TABLES: 0x8000_0009,
  EV_EFI_PLATFORM_FIRMWARE_BLOB2: 0x8000_000a,
  EV_EFI_HANDOFF_TABLES2: 0x8000_000b,
  EV_EFI_VARIABLE_BOOT2: 0x8000_000c,
  EV_EFI_HCRTM_EVENT: 0x8000_0010,
  EV_EFI_VARIABLE_AUTHORITY: 0x8000_00e0,
  EV_EFI_SPDM_FIRMWARE_BLOB: 0x8000_00e1,
  EV_EFI_SPDM_FIRMWARE_CONFIG: 0x8000_00e2,
} as const;

export type EventTypeName = keyof typeof EVENT_TYPES;

export const EVENT_TYPE_NAMES = Object.freeze(Object.keys(EVENT_TYPES) as EventTypeName[]);

const BY_NUMBER = new Map<number, EventTypeName>(EVENT_TYPE_NAMES.map((name) => [EVENT_TYPES[name], name]));

/** The PFP name of an event type, or null for a type this table does not list. */
export function eventTypeName(type: number): EventTypeName | null {
  return BY_NUMBER.get(type) ?? null;
}
