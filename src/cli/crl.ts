import { issueCrl } from '../ca/index.js';
import { parseArgs } from './args.js';
import { cliActor, withAuthority } from './context.js';
import { emit, type Io, printJson, progress } from './output.js';

export const CRL_HELP = `kyso crl [--delta] [--ca ID] [--out FILE] [--der]: makes, signs and stores a full (or delta) CRL`;

/** `kyso crl`: issues a CRL now. */
export async function crlCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    { delta: { type: 'boolean' }, ca: { type: 'string' }, out: { type: 'string' }, der: { type: 'boolean' } },
    { min: 0, max: 0, usage: 'kyso crl [--delta] [--ca ID] [--out FILE] [--der]' },
  );
  if (values.help) {
    io.out(`${CRL_HELP}\n`);
    return 0;
  }
  return withAuthority(values.data, async (ca) => {
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
    if (values.json) printJson(io, info);
    if (values.out || !values.json) emit(io, 'X509 CRL', [crl.der], values);
    if (!values.json)
      io.err(
        `CRL ${crl.number}${crl.deltaBase ? ` (delta on ${crl.deltaBase})` : ''} of ${crl.caId}: ${crl.entries} entries, next update ${info.nextUpdate}\n`,
      );
    return 0;
  });
}
