import { expect, test } from 'vitest';
import { CaError } from './errors.js';
import { type CertificateAction, nextStatus } from './lifecycle.js';
import { allowedReasons, checkReason } from './reasons.js';

const ACTIONS: CertificateAction[] = ['revoke', 'hold', 'release', 'renew', 'change'];

test('every certificate transition, allowed or refused', () => {
  const table: Record<string, Record<CertificateAction, string>> = {
    active: { revoke: 'revoked', hold: 'hold', release: 'refused', renew: 'active', change: 'revoked' },
    hold: { revoke: 'revoked', hold: 'refused', release: 'active', renew: 'refused', change: 'refused' },
    revoked: { revoke: 'refused', hold: 'refused', release: 'refused', renew: 'refused', change: 'refused' },
  };
  for (const [from, row] of Object.entries(table)) {
    for (const action of ACTIONS) {
      const expected = row[action];
      const run = () => nextStatus(from as 'active', action, '0A');
      if (expected === 'refused') {
        expect(run, `${from} → ${action}`).toThrow(CaError);
        expect(run).toThrow(/cannot .* certificate 0A/);
      } else {
        expect(run(), `${from} → ${action}`).toBe(expected);
      }
    }
  }
});

test('revocation reasons: states are not reasons, and a managing body cannot speak for the CA', () => {
  expect(() => checkReason('certificateHold', 'ra-officer')).toThrow(/use hold/);
  expect(() => checkReason('removeFromCRL', 'ra-officer')).toThrow(/use release/);
  expect(() => checkReason('caCompromise', 'managing-body')).toThrow(/may not revoke/);
  expect(() => checkReason('privilegeWithdrawn', 'managing-body')).toThrow(/may not revoke/);
  for (const r of allowedReasons('managing-body')) expect(() => checkReason(r, 'ra-officer')).not.toThrow();
  expect(allowedReasons('ra-officer')).toEqual(
    expect.arrayContaining(['keyCompromise', 'caCompromise', 'superseded']),
  );
  expect(allowedReasons('ra-officer')).not.toContain('aACompromise');
});
