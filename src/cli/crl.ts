import { issueCrl } from '../ca/index.js';
import { parseArgs } from './args.js';
import { cliActor, withAuthority } from './context.js';
import { UsageError } from './errors.js';
import { afterCommit, emit, type Io, printJson, progress } from './output.js';

export const CRL_HELP = `kyso crl [--delta] [--ca ID] [--out FILE] [--der]: makes, signs and stores a full (or delta) CRL
kyso crl --latest [--delta] [--ca ID] [--out FILE] [--der]: writes the newest stored one, making none
  If --out cannot be written after a new CRL was stored, the error names its number: fetch it with
  --latest rather than making another (exit 5).`;

/** `kyso crl`: issues a CRL now, or writes the newest one stored. */
export async function crlCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    {
      delta: { type: 'boolean' },
      latest: { type: 'boolean' },
      ca: { type: 'string' },
      out: { type: 'string' },
      der: { type: 'boolean' },
    },
    { min: 0, max: 0, usage: 'kyso crl [--latest] [--delta] [--ca ID] [--out FILE] [--der]' },
  );
  return withAuthority(values.data, async (ca) => {
    if (values.latest) {
      const caId = values.ca ?? (await ca.defaultCaId());
      const crl = await ca.store.crls.latest(caId, values.delta ? 'delta' : 'full');
      if (!crl) throw new UsageError(`${caId} has no ${values.delta ? 'delta ' : ''}CRL yet: run kyso crl`);
      emit(io, 'X509 CRL', [crl.der], values);
      return 0;
    }
    const bar = progress(io, values.delta ? 'delta CRL entries' : 'CRL entries');
    const crl = await issueCrl(ca, {
      caId: values.ca,
      delta: values.delta,
      actor: cliActor(values.actor),
      onProgress: bar.tick,
    });
    bar.done();
    const info = {
      caId: crl.caId,
      number: crl.number,
      deltaBase: crl.deltaBase,
      thisUpdate: crl.thisUpdate.toISOString(),
      nextUpdate: crl.nextUpdate.toISOString(),
      entries: crl.entries,
    };
    const kind = crl.deltaBase ? { vi: 'CRL delta', en: 'Delta CRL' } : { vi: 'CRL', en: 'CRL' };
    afterCommit(
      () => {
        if (values.out || !values.json) emit(io, 'X509 CRL', [crl.der], values);
      },
      {
        vi: `${kind.vi} số ${crl.number} của ${crl.caId} đã được lập và lưu`,
        en: `${kind.en} number ${crl.number} of ${crl.caId} was issued and stored`,
      },
      `kyso crl --latest --ca ${crl.caId}${crl.deltaBase ? ' --delta' : ''} --out ${values.out ?? 'FILE'}${values.der ? ' --der' : ''}`,
    );
    if (values.json) printJson(io, info);
    else
      io.err(
        `CRL ${crl.number}${crl.deltaBase ? ` (delta on ${crl.deltaBase})` : ''} of ${crl.caId}: ${crl.entries} entries, next update ${info.nextUpdate}\n`,
      );
    return 0;
  });
}
