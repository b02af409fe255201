/**
 * A small CC event log writer for tests (TCG PC Client PFP §10.2 crypto-agile format, as TDVF writes
 * the ACPI CCEL data): the Spec ID header, TCG_PCR_EVENT2 entries, 0xFF padding. Every field can be
 * overridden so that tests can build hostile logs. `expectedRtmrs` extends registers the way the TDX
 * module does (SHA-384(RTMR ‖ digest) from zeros), written here independently of src/.
 */
export interface TestEvent {
  mrIndex: number;
  eventType: number;
  digest: Uint8Array;
  data?: Uint8Array;
  /** Overrides for hostile entries. */
  digestCount?: number;
  hashAlg?: number;
  eventSize?: number;
}

export interface HeaderOptions {
  algorithms?: { id: number; size: number }[];
  signature?: string;
  vendorInfo?: Uint8Array;
}

class Writer {
  private parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function specIdHeader(o: HeaderOptions = {}): Uint8Array {
  const algs = o.algorithms ?? [{ id: 0x000c, size: 48 }];
  const vendor = o.vendorInfo ?? new Uint8Array(0);
  const spec = new Writer().bytes(new TextEncoder().encode(o.signature ?? 'Spec ID Event03\0'));
  spec.u32(0).u8(0).u8(2).u8(0).u8(2).u32(algs.length);
  for (const a of algs) spec.u16(a.id).u16(a.size);
  const data = spec.u8(vendor.length).bytes(vendor).done();
  return new Writer().u32(0).u32(3).bytes(new Uint8Array(20)).u32(data.length).bytes(data).done();
}

export function pcrEvent2(e: TestEvent): Uint8Array {
  const data = e.data ?? new Uint8Array(0);
  const w = new Writer()
    .u32(e.mrIndex)
    .u32(e.eventType)
    .u32(e.digestCount ?? 1);
  w.u16(e.hashAlg ?? 0x000c).bytes(e.digest);
  return w
    .u32(e.eventSize ?? data.length)
    .bytes(data)
    .done();
}

export function ccEventLog(events: TestEvent[], o: HeaderOptions & { padding?: number } = {}): Uint8Array {
  const parts = [specIdHeader(o), ...events.map(pcrEvent2), new Uint8Array(o.padding ?? 0).fill(0xff)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A distinct, recognisable SHA-384-sized digest for tests. */
export function digestOf(label: string): Promise<Uint8Array> {
  return crypto.subtle.digest('SHA-384', new TextEncoder().encode(label)).then((b) => new Uint8Array(b));
}

/** RTMR0..3 after extending each event (EV_NO_ACTION skipped), from 48 zero bytes. */
export async function expectedRtmrs(events: TestEvent[]): Promise<Uint8Array[]> {
  const r = [0, 1, 2, 3].map(() => new Uint8Array(48));
  for (const e of events) {
    if (e.eventType === 3) continue;
    const i = e.mrIndex - 1;
    const buf = new Uint8Array(96);
    buf.set(r[i]!);
    buf.set(e.digest, 48);
    r[i] = new Uint8Array(await crypto.subtle.digest('SHA-384', buf));
  }
  return r;
}

/** A plausible TDVF + grub + Linux boot: firmware in RTMR0, loaders in RTMR1, cmdline/initrd in RTMR2. */
export async function bootEvents(): Promise<TestEvent[]> {
  const text = (s: string) => new TextEncoder().encode(s);
  return [
    { mrIndex: 1, eventType: 0x8000000a, digest: await digestOf('td-hob'), data: text('TD HOB') },
    { mrIndex: 1, eventType: 0x80000001, digest: await digestOf('secure-boot') },
    { mrIndex: 0, eventType: 3, digest: new Uint8Array(48), data: text('StartupLocality\0') },
    { mrIndex: 1, eventType: 4, digest: await digestOf('separator'), data: new Uint8Array(4) },
    { mrIndex: 2, eventType: 0x80000003, digest: await digestOf('shim') },
    { mrIndex: 2, eventType: 0x80000003, digest: await digestOf('grub') },
    { mrIndex: 2, eventType: 0x80000003, digest: await digestOf('vmlinuz') },
    { mrIndex: 3, eventType: 0x0d, digest: await digestOf('cmdline'), data: text('console=ttyS0') },
    { mrIndex: 3, eventType: 0x06, digest: await digestOf('initrd') },
  ];
}
