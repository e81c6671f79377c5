import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, helpText, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('has the common defaults', () => {
    const { config } = loadConfig([], {});
    expect(config).toMatchObject({
      cseId: '/id-in',
      cseRn: 'cse-in',
      admin: 'CAdmin',
      httpPort: 8080,
      coapPort: 5683,
      mqttPort: 1883,
      dataDir: './data',
    });
    expect(config.releaseVersions).toEqual(['2a', '3', '4', '5']);
    expect(config).toEqual(DEFAULTS);
  });

  it('precedence: flags > environment > file > defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'cse.json');
    writeFileSync(file, JSON.stringify({ httpPort: 1111, cseRn: 'from-file', 'log-level': 'warn', admin: 'Cfile' }));
    const env = { CSE_HTTP_PORT: '2222', CSE_ADMIN: 'Cenv' };
    const { config } = loadConfig(['--config', file, '--http-port', '3333'], env);
    expect(config.httpPort).toBe(3333);
    expect(config.admin).toBe('Cenv');
    expect(config.cseRn).toBe('from-file');
    expect(config.logLevel).toBe('warn');
  });

  it('--no-<binding>, --flag=value and lists', () => {
    const { config } = loadConfig(['--no-coap', '--no-mqtt', '--cse-id=/id-x', '--release-versions', '3,4'], {});
    expect(config.coapEnabled).toBe(false);
    expect(config.mqttEnabled).toBe(false);
    expect(config.httpEnabled).toBe(true);
    expect(config.cseId).toBe('/id-x');
    expect(config.releaseVersions).toEqual(['3', '4']);
  });

  it('--poa is repeatable, a list in CSE_POA and the config file, and must be URLs with a scheme and a host', () => {
    expect(loadConfig([], {}).config.poa).toEqual([]);
    const argv = ['--poa', 'http://cse.city.example:8080', '--poa=coap://203.0.113.7:5683'];
    expect(loadConfig(argv, {}).config.poa).toEqual(['http://cse.city.example:8080', 'coap://203.0.113.7:5683']);
    expect(loadConfig([], { CSE_POA: 'http://a.example,mqtt://b.example:1883' }).config.poa).toEqual([
      'http://a.example',
      'mqtt://b.example:1883',
    ]);
    // flags win over the environment, as for every option
    expect(loadConfig(['--poa', 'http://flag.example'], { CSE_POA: 'http://env.example' }).config.poa).toEqual([
      'http://flag.example',
    ]);
    for (const bad of [
      'cse.city.example:8080',
      'http://',
      'not a url',
      '/relative/path',
      'javascript://x',
      'http://h/p#f',
    ])
      expect(() => loadConfig(['--poa', bad], {}), bad).toThrow(/poa/);
    // any other list flag given again replaces it: a later, narrower setting is never widened by an earlier one
    const narrowed = loadConfig(
      [
        '--allowed-ae-ids',
        '*',
        '--allowed-ae-ids',
        'Csensor*',
        '--jwt-algorithms',
        'HS256,RS256',
        '--jwt-algorithms',
        'RS256',
      ],
      {},
    ).config;
    expect([narrowed.allowedAeIds, narrowed.jwtAlgorithms]).toEqual([['Csensor*'], ['RS256']]);
  });

  it('refuses unknown options and bad values with a readable message', () => {
    expect(() => loadConfig(['--nope'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--http-port', 'abc'], {})).toThrow(/http-port/);
    expect(() => loadConfig(['--cse-id', 'no-slash'], {})).toThrow(/cse-id/);
    expect(() => loadConfig(['--http-port'], {})).toThrow(/needs a value/);
  });

  it('--help lists every flag with its environment variable', () => {
    expect(loadConfig(['--help'], {}).help).toBe(true);
    const text = helpText();
    for (const flag of [
      '--http-port',
      '--coap-port',
      '--mqtt-port',
      '--mqtt-url',
      '--no-http',
      '--no-coap',
      '--no-mqtt',
      '--data-dir',
      '--cse-id',
      '--cse-rn',
      '--sp-id',
      '--admin',
      '--log-level',
      '--config',
    ])
      expect(text).toContain(flag);
    expect(text).toContain('CSE_HTTP_PORT');
    // a boolean off by default is shown with the flag that turns it on first
    expect(text).toMatch(/^ {2}--mqtt-ws \/ --no-mqtt-ws /m);
    expect(text).toMatch(/^ {2}--no-http \/ --http /m);
  });
});
