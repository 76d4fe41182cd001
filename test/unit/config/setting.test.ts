// One setting: its flag and YAML key come from its name.
import { describe, expect, it } from 'vitest';
import { define, kebab, spoken } from '../../../lib/config/setting.js';

const entry = { metavar: 'N', default: 1, defaultText: '1', allowed: 'a number', help: 'h', parse: () => 1 };

describe('define', () => {
  it('derives --flag and YAML key from the name in kebab-case', () => {
    expect(kebab('maxRequestsJitter')).toBe('max-requests-jitter');
    expect(define('maxBody', entry)).toMatchObject({
      name: 'maxBody',
      flag: '--max-body',
      yaml: 'max-body',
      positional: false,
      metavar: 'N',
    });
  });

  it('knows the positional argument (its metavar is its flag), YAML-only and CLI-only settings', () => {
    expect(define('root', { ...entry, metavar: 'DIR', only: 'positional' })).toMatchObject({
      flag: 'DIR',
      yaml: 'root',
      positional: true,
    });
    expect(define('env', { ...entry, metavar: null, only: 'yaml' })).toMatchObject({ flag: null, yaml: 'env' });
    expect(define('config', { ...entry, only: 'cli' })).toMatchObject({ flag: '--config', yaml: null });
    expect(define('port', entry)).not.toHaveProperty('only');
  });
});

describe('spoken', () => {
  it('lists words as a sentence does', () => {
    expect(spoken(['a', 'b', 'c'])).toBe('a, b and c');
    expect(spoken(['a'])).toBe('a');
  });
});
