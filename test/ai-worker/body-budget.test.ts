/** The AI worker's budget of request-body bytes in flight (src/ai-worker/body-budget.ts). */
import { describe, expect, it } from 'vitest';
import {
  BodyBudget,
  DEFAULT_BODY_BYTES_IN_FLIGHT,
  peerKey,
  UNKNOWN_PEER,
  workerBodyBudget,
} from '../../src/ai-worker/body-budget.js';
import { MAX_SEALED_FORM_BYTES } from '../../src/api/transcriptions/form.js';

describe('workerBodyBudget', () => {
  const MIB = 1024 * 1024;

  it("gives each peer a quarter of the process's budget, but room for one transcription's sealed body", () => {
    expect(workerBodyBudget().perPeerBytes).toBe(256 * MIB);
    expect(workerBodyBudget(4096 * MIB).perPeerBytes).toBe(1024 * MIB);
    // The smallest budget main.ts allows: a quarter (16 MiB) would refuse every large transcription.
    const smallest = workerBodyBudget(64 * MIB);
    expect(smallest.perPeerBytes).toBe(MAX_SEALED_FORM_BYTES);
    const hold = smallest.hold('192.0.2.1');
    expect(hold.take(MAX_SEALED_FORM_BYTES)).toBe(true);
    expect(hold.take(1)).toBe(false);
    hold.release();
  });

  it("takes a set share as it is, up to the process's budget", () => {
    expect(workerBodyBudget(128 * MIB, 128 * MIB).perPeerBytes).toBe(128 * MIB);
    expect(() => workerBodyBudget(128 * MIB, 129 * MIB)).toThrow(RangeError);
  });
});

describe('BodyBudget', () => {
  it('takes bytes up to its limit across requests, never past it, and gives back what each took', () => {
    const budget = new BodyBudget(100, 100);
    const a = budget.hold();
    const b = budget.hold();
    expect(a.take(60)).toBe(true);
    expect(b.take(30)).toBe(true);
    expect(b.take(11)).toBe(false); // 101 would pass the limit: nothing added
    expect(budget.inFlight).toBe(90);
    expect(b.take(10)).toBe(true);
    expect(budget.inFlight).toBe(100);
    a.release();
    expect(budget.inFlight).toBe(40);
    a.release(); // idempotent
    expect(budget.inFlight).toBe(40);
    b.release();
    expect(budget.inFlight).toBe(0);
  });

  it('defaults to 1 GiB and refuses a limit that is not a positive integer', () => {
    expect(new BodyBudget().limitBytes).toBe(DEFAULT_BODY_BYTES_IN_FLIGHT);
    expect(DEFAULT_BODY_BYTES_IN_FLIGHT).toBe(1024 ** 3);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new BodyBudget(bad)).toThrow(RangeError);
    }
  });

  it("gives each peer at most its share (default a quarter), others beside it, the process's bound over all", () => {
    const budget = new BodyBudget(100);
    expect(budget.perPeerBytes).toBe(25);
    const a = budget.hold('192.0.2.1');
    const a2 = budget.hold('::ffff:192.0.2.1'); // the same host over an IPv4-mapped socket
    expect(a.take(20)).toBe(true);
    expect(a2.take(6)).toBe(false); // 26 > 25: nothing added
    expect(a2.take(5)).toBe(true);
    expect(budget.peerInFlight('192.0.2.1')).toBe(25);
    const others = ['192.0.2.2', '192.0.2.3', '2001:db8::1'].map((p) => budget.hold(p));
    for (const h of others) expect(h.take(25)).toBe(true);
    expect(budget.inFlight).toBe(100);
    const fifth = budget.hold('198.51.100.7');
    expect(fifth.take(1)).toBe(false); // within its share, past the process's bound
    a.release();
    expect(fifth.take(1)).toBe(true);
    for (const h of [a2, fifth, ...others]) h.release();
    expect(budget.inFlight).toBe(0);
    expect(budget.peerInFlight('192.0.2.1')).toBe(0);
  });

  it('counts an IPv6 peer by its /64: another address of the same /64 shares its share', () => {
    const budget = new BodyBudget(100);
    expect(budget.hold('2001:db8:1:2::1').take(25)).toBe(true);
    expect(budget.hold('2001:db8:1:2:ffff:ffff:ffff:ffff').take(1)).toBe(false);
    expect(budget.hold('2001:db8:1:3::1').take(25)).toBe(true);
  });

  it('peerKey: IPv4 as it is, mapped IPv4 as IPv4, IPv6 by /64 in one spelling, unknown shared', () => {
    expect(peerKey('203.0.113.9')).toBe('203.0.113.9');
    expect(peerKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(peerKey('::FFFF:203.0.113.9')).toBe('203.0.113.9');
    for (const spelling of [
      '2001:db8:0:1::5',
      '2001:0DB8:0000:0001:0:0:0:6',
      '2001:db8:0:1:aaaa::',
      '2001:db8:0:1::7%eth0',
    ]) {
      expect(peerKey(spelling)).toBe('2001:db8:0:1::/64');
    }
    expect(peerKey('::1')).toBe('0:0:0:0::/64');
    expect(peerKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(peerKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(peerKey('1:2:3:4:5:6:7:8')).toBe('1:2:3:4::/64');
    for (const none of [undefined, null, '']) expect(peerKey(none)).toBe(UNKNOWN_PEER);
  });

  it('refuses a share that is not 1..limitBytes', () => {
    for (const bad of [0, 101, 1.5, Number.NaN]) expect(() => new BodyBudget(100, bad)).toThrow(RangeError);
  });
});
