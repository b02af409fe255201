/** A simulated NVIDIA-shaped chain and OCSP answers for the OCSP tests (Node and workerd). */
import { type Certificate, parseX509Certificate } from '../../../src/der/certificate.js';
import {
  makeNvidiaChain,
  makeOcspResponderCertificate,
  type SimulatedNvidiaChain,
} from '../../../src/platform/simulator/nvidia-chain.js';
import { type OcspAnswer, signOcspResponse } from '../../../src/platform/simulator/nvidia-ocsp.js';

/** The time checks run at; the simulated answers' window is around it. */
export const AT = new Date('2026-06-01T12:00:00Z');
export const HOUR = 3600_000;

export interface OcspFixture {
  sim: SimulatedNvidiaChain;
  /** Parsed, leaf first: leaf, intermediate, root. */
  certs: Certificate[];
  /** A signed answer for the leaf under the intermediate; `over` changes any field. */
  answer(over?: Partial<OcspAnswer>): Promise<Uint8Array>;
}

export async function ocspFixture(): Promise<OcspFixture> {
  const sim = await makeNvidiaChain([
    'SIMULATED NVIDIA Root CA',
    'SIMULATED NVIDIA Provisioner ICA',
    'SIMULATED NVIDIA GSP BROM',
  ]);
  const certs = await Promise.all(sim.ders.map((d) => parseX509Certificate(d)));
  return {
    sim,
    certs,
    answer: (over = {}) =>
      signOcspResponse({
        cert: sim.certs[0]!.der,
        issuer: sim.certs[1]!,
        status: { kind: 'good' },
        thisUpdate: new Date(AT.getTime() - HOUR),
        nextUpdate: new Date(AT.getTime() + 24 * HOUR),
        ...over,
      }),
  };
}

export { makeOcspResponderCertificate };
