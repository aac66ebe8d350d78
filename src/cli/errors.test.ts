import { describe, expect, it } from 'vitest';
import { CaError } from '../ca/index.js';
import { KeyError } from '../keys/index.js';
import { StoreError } from '../store/index.js';
import { HelpRequested, helpRequested, parseArgs } from './args.js';
import { describeError, EXIT, exitCodeOf, OutputNotWrittenError, UsageError, WriteError } from './errors.js';
import { languageOf } from './messages.js';

describe('the language of a command line', () => {
  it('takes --lang first, then LC_ALL, LC_MESSAGES and LANG; Vietnamese when none is set or it is C', () => {
    expect(languageOf(['cert', 'list', '--lang', 'en'], { LANG: 'vi_VN.UTF-8' })).toBe('en');
    expect(languageOf(['--lang=vi'], { LANG: 'en_US.UTF-8' })).toBe('vi');
    expect(languageOf([], { LC_ALL: 'en_GB.UTF-8', LANG: 'vi_VN' })).toBe('en');
    expect(languageOf([], { LC_MESSAGES: 'vi_VN.UTF-8', LANG: 'en_US' })).toBe('vi');
    expect(languageOf([], { LANG: 'fr_FR.UTF-8' })).toBe('en');
    expect(languageOf([], {})).toBe('vi');
    expect(languageOf([], { LANG: 'C.UTF-8' })).toBe('vi');
    expect(languageOf([], { LANG: 'POSIX' })).toBe('vi');
    expect(languageOf(['--', '--lang', 'en'], { LANG: 'vi_VN' })).toBe('vi');
  });
});

describe('errors on the command line', () => {
  it('says a raw token code only in parentheses, after a sentence', () => {
    const pin = new KeyError('wrong-pin', 'C_Login: CKR_PIN_INCORRECT');
    expect(describeError(pin, { lang: 'vi' })).toEqual({
      line: 'Mã PIN không đúng (C_Login: CKR_PIN_INCORRECT)',
      exitCode: EXIT.failed,
    });
    expect(describeError(pin, { lang: 'en' }).line).toBe('The PIN is incorrect (C_Login: CKR_PIN_INCORRECT)');
  });

  it('turns a system error into a sentence naming the file', () => {
    const e = Object.assign(new Error("ENOENT: no such file or directory, open '/x/me.csr'"), {
      code: 'ENOENT',
      syscall: 'open',
      path: '/x/me.csr',
    });
    expect(describeError(e, { lang: 'vi' }).line).toBe('Không tìm thấy tệp hoặc thư mục: /x/me.csr (ENOENT)');
    expect(describeError(e, { lang: 'en' }).line).toBe('No such file or directory: /x/me.csr (ENOENT)');
  });

  it('maps codes to one exit table: usage 2, unavailable 4, stored-but-not-written 5, else 1', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(3);
    expect(exitCodeOf(new StoreError('locked', 'x'))).toBe(4);
    expect(exitCodeOf(new KeyError('device-error', 'x'))).toBe(4);
    expect(exitCodeOf(new CaError('unknown-certificate', 'x'))).toBe(1);
    expect(exitCodeOf(new Error('bug'))).toBe(1);
    const lost = new OutputNotWrittenError(
      new WriteError('/out/me.pem', 'ENOSPC'),
      { vi: 'Chứng thư số 0A đã được cấp và lưu', en: 'Certificate 0A was issued and stored' },
      'kyso cert show 0A --out /out/me.pem',
    );
    expect(describeError(lost, { lang: 'en' })).toEqual({
      line:
        'Certificate 0A was issued and stored. Cannot write /out/me.pem: no space left on the device (ENOSPC). ' +
        'Do not run it again; fetch it with: kyso cert show 0A --out /out/me.pem',
      exitCode: EXIT.outputNotWritten,
    });
  });

  it('points a usage error at the command help', () => {
    expect(describeError(new UsageError('unknown option --x'), { lang: 'en', command: 'cert' }).line).toBe(
      'The command line is not right: unknown option --x. See: kyso help cert',
    );
  });
});

describe('help requests', () => {
  it('are found anywhere before --, and the parser refuses to go on with one', () => {
    expect(helpRequested(['revoke', 'AB', '--reason', 'keyCompromise', '--help'])).toBe(true);
    expect(helpRequested(['-h', 'revoke'])).toBe(true);
    expect(helpRequested(['revoke', '--', '--help'])).toBe(false);
    expect(() => parseArgs(['AB', '--help'], {}, { min: 1, max: 1, usage: 'x' })).toThrow(HelpRequested);
  });
});
