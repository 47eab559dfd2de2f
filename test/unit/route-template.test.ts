import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareRouteSpecificity,
  compileRoute,
  matchRoute,
  routeSpecificity,
} from '../../local/http/route-template.js';
import { ValidationError } from '../../shared/errors.js';

type Expected = Record<string, string> | undefined;

const MATCH_CASES: { template: string; path: string; expected: Expected }[] = [
  // literals: case-insensitive, whole segments only
  { template: 'workspaces', path: 'workspaces', expected: {} },
  { template: 'workspaces', path: 'WorkSpaces', expected: {} },
  { template: 'workspaces', path: 'workspaces/', expected: {} },
  { template: 'workspaces', path: 'workspace', expected: undefined },
  { template: 'workspaces', path: 'workspaces/x', expected: undefined },
  { template: '', path: '', expected: {} },
  { template: '', path: 'x', expected: undefined },
  { template: '/workspaces/', path: 'workspaces', expected: {} },
  // parameters
  { template: 'workspaces/{name}', path: 'workspaces/main', expected: { name: 'main' } },
  { template: 'workspaces/{name}', path: 'workspaces', expected: undefined },
  { template: 'workspaces/{name}', path: 'workspaces//', expected: undefined },
  { template: 'workspaces/{name}/jobs/{job}', path: 'workspaces/w1/JOBS/j-7', expected: { name: 'w1', job: 'j-7' } },
  { template: 'workspaces/{name}/jobs/{job}', path: 'workspaces//jobs/j', expected: undefined },
  // decoding: %20 and UTF-8 are decoded, %2F stays encoded (as Kestrel does), invalid escapes stay as is
  { template: 'workspaces/{name}', path: 'workspaces/my%20space', expected: { name: 'my space' } },
  { template: 'workspaces/{name}', path: 'workspaces/a%2Fb', expected: { name: 'a%2Fb' } },
  { template: 'workspaces/{name}', path: 'workspaces/a%2fb%20c', expected: { name: 'a%2fb c' } },
  { template: 'workspaces/{name}', path: 'workspaces/caf%C3%A9', expected: { name: 'café' } },
  { template: 'workspaces/{name}', path: 'workspaces/bad%E0%A4', expected: { name: 'bad%E0%A4' } },
  { template: 'workspaces/{name}', path: 'workspaces/100%', expected: { name: '100%' } },
  { template: 'my%20files/{name}', path: 'my%20files/x', expected: undefined },
  { template: 'my files/{name}', path: 'My%20Files/x', expected: { name: 'x' } },
  // optional and default values
  { template: 'models/{name}/{version?}', path: 'models/m', expected: { name: 'm' } },
  { template: 'models/{name}/{version?}', path: 'models/m/', expected: { name: 'm' } },
  { template: 'models/{name}/{version?}', path: 'models/m/3', expected: { name: 'm', version: '3' } },
  { template: 'models/{name}/{version?}', path: 'models/m/3/x', expected: undefined },
  { template: 'models/{name}/{version?}/{label?}', path: 'models/m', expected: { name: 'm' } },
  { template: 'models/{name}/{version=latest}', path: 'models/m', expected: { name: 'm', version: 'latest' } },
  { template: 'models/{name}/{version=latest}', path: 'models/m/2', expected: { name: 'm', version: '2' } },
  { template: 'models/{name=all}/{version=latest}', path: 'models', expected: { name: 'all', version: 'latest' } },
  { template: 'items/{id:int?}', path: 'items', expected: {} },
  { template: 'items/{id:int?}', path: 'items/x', expected: undefined },
  { template: 'items/{id:int=5}', path: 'items', expected: { id: '5' } },
  // catch-all: the rest of the path, slashes included; %2F still encoded; may be empty
  { template: 'artifacts/{*path}', path: 'artifacts/a/b/c.txt', expected: { path: 'a/b/c.txt' } },
  { template: 'artifacts/{*path}', path: 'artifacts/a/b%2Fc/d%20e', expected: { path: 'a/b%2Fc/d e' } },
  { template: 'artifacts/{*path}', path: 'artifacts/dir/', expected: { path: 'dir/' } },
  { template: 'artifacts/{*path}', path: 'artifacts', expected: {} },
  { template: 'artifacts/{*path}', path: 'artifacts/', expected: {} },
  { template: 'artifacts/{**path}', path: 'artifacts/a/b', expected: { path: 'a/b' } },
  { template: 'artifacts/{*path=index.html}', path: 'artifacts', expected: { path: 'index.html' } },
  { template: 'artifacts/{*path:minlength(3)}', path: 'artifacts/a/b', expected: { path: 'a/b' } },
  { template: 'artifacts/{*path:minlength(4)}', path: 'artifacts/a/b', expected: undefined },
  { template: 'other/{*path}', path: 'artifacts/a', expected: undefined },
  // segments mixing literals and parameters
  { template: 'files/{name}.{ext}', path: 'files/report.csv', expected: { name: 'report', ext: 'csv' } },
  { template: 'files/{name}.{ext}', path: 'files/archive.tar.gz', expected: { name: 'archive.tar', ext: 'gz' } },
  { template: 'files/{name}.{ext}', path: 'files/noext', expected: undefined },
  { template: 'files/{name}.{ext?}', path: 'files/noext', expected: { name: 'noext' } },
  { template: 'files/{name}.{ext?}', path: 'files/a.b', expected: { name: 'a', ext: 'b' } },
  { template: 'v{major:int}.{minor:int}/ping', path: 'V2.10/ping', expected: { major: '2', minor: '10' } },
  { template: 'v{major:int}.{minor:int}/ping', path: 'v2.x/ping', expected: undefined },
  { template: 'runs/{id}-{attempt}', path: 'runs/a-b-3', expected: { id: 'a-b', attempt: '3' } },
  // constraints
  { template: 'jobs/{id:int}', path: 'jobs/42', expected: { id: '42' } },
  { template: 'jobs/{id:int}', path: 'jobs/forty-two', expected: undefined },
  { template: 'jobs/{id:int:range(1,100)}', path: 'jobs/100', expected: { id: '100' } },
  { template: 'jobs/{id:int:range(1,100)}', path: 'jobs/101', expected: undefined },
  { template: 'jobs/{id:INT}', path: 'jobs/7', expected: { id: '7' } },
  { template: 'tags/{tag:regex(^[a-z]+-\\d{{2}}$)}', path: 'tags/Abc-12', expected: { tag: 'Abc-12' } },
  { template: 'tags/{tag:regex(^[a-z]+-\\d{{2}}$)}', path: 'tags/abc-123', expected: undefined },
  { template: 'tags/{tag:regex(^a(b)?$):maxlength(2)}', path: 'tags/ab', expected: { tag: 'ab' } },
  { template: 'tags/{tag:regex(^a(b)?$):maxlength(1)}', path: 'tags/ab', expected: undefined },
  { template: 'tags/{tag:regex(\\d)}', path: 'tags/abc1def', expected: { tag: 'abc1def' } },
  // a parameter called __proto__ is a plain value, not a prototype
  { template: 'x/{__proto__}', path: 'x/y', expected: { ['__proto__']: 'y' } },
];

for (const c of MATCH_CASES) {
  test(`matchRoute "${c.template}" against "${c.path}"`, () => {
    const actual = matchRoute(compileRoute(c.template), c.path);
    if (c.expected === undefined) {
      assert.equal(actual, undefined);
    } else {
      assert.ok(actual !== undefined, 'expected a match');
      assert.deepEqual(Object.entries(actual), Object.entries(c.expected));
      assert.equal(Object.getPrototypeOf(actual), Object.prototype);
    }
  });
}

const CONSTRAINT_CASES: { constraint: string; accepts: string[]; rejects: string[] }[] = [
  {
    constraint: 'int',
    accepts: ['0', '-5', '+7', '2147483647', '-2147483648', '%2012'],
    rejects: ['2147483648', '1.5', '1e3', 'x', '0x10'],
  },
  {
    constraint: 'long',
    accepts: ['9223372036854775807', '-9223372036854775808'],
    rejects: ['9223372036854775808', '1.0'],
  },
  { constraint: 'alpha', accepts: ['abc', 'ABCdef'], rejects: ['abc1', 'a-b', 'é'] },
  { constraint: 'bool', accepts: ['true', 'False', 'TRUE'], rejects: ['yes', '1', 'truthy'] },
  {
    constraint: 'guid',
    accepts: [
      '0f8fad5b-d9cb-469f-a165-70867728950e',
      '0F8FAD5BD9CB469FA16570867728950E',
      '{0f8fad5b-d9cb-469f-a165-70867728950e}',
      '(0f8fad5b-d9cb-469f-a165-70867728950e)',
    ],
    rejects: ['0f8fad5b-d9cb-469f-a165-70867728950', 'not-a-guid', '{0f8fad5b-d9cb-469f-a165-70867728950e'],
  },
  {
    constraint: 'datetime',
    accepts: ['2024-02-29', '2024-02-29T10:30', '2024-02-29T10:30:15.123Z', '2024-1-5', '2024-06-01T00:00:00%2B02:00'],
    rejects: ['2023-02-29', '2024-13-01', '2024-04-31', 'yesterday', '2024-01-01T24:00'],
  },
  {
    constraint: 'decimal',
    accepts: ['1', '-1.50', '1,000.5', '.5', '79228162514264337593543950335'],
    rejects: ['1e5', 'abc', '.', '79228162514264337593543950336'],
  },
  {
    constraint: 'double',
    accepts: ['1.5', '-2e10', '1E-3', '.5', '5.', 'NaN', '-Infinity', '1e999'],
    rejects: ['abc', 'e5', '1.2.3', '--1'],
  },
  { constraint: 'float', accepts: ['3.25', '1e38'], rejects: ['three'] },
  { constraint: 'min(10)', accepts: ['10', '9999'], rejects: ['9', '-10', 'ten'] },
  { constraint: 'max(10)', accepts: ['10', '-3'], rejects: ['11', '10.5'] },
  { constraint: 'range(-1,1)', accepts: ['-1', '0', '1'], rejects: ['2', '-2'] },
  { constraint: 'minlength(3)', accepts: ['abc', 'abcd'], rejects: ['ab'] },
  { constraint: 'maxlength(3)', accepts: ['a', 'abc'], rejects: ['abcd'] },
  { constraint: 'length(3)', accepts: ['abc'], rejects: ['ab', 'abcd'] },
  { constraint: 'length(2,3)', accepts: ['ab', 'abc'], rejects: ['a', 'abcd'] },
  { constraint: 'regex(^v\\d+$)', accepts: ['v1', 'V12'], rejects: ['v', 'xv1'] },
  { constraint: 'int:min(1):max(3)', accepts: ['1', '3'], rejects: ['0', '4', 'x'] },
];

for (const c of CONSTRAINT_CASES) {
  test(`constraint :${c.constraint}`, () => {
    const route = compileRoute(`v/{value:${c.constraint}}`);
    for (const value of c.accepts) assert.ok(matchRoute(route, `v/${value}`) !== undefined, `should accept "${value}"`);
    for (const value of c.rejects) assert.equal(matchRoute(route, `v/${value}`), undefined, `should reject "${value}"`);
  });
}

const ERROR_CASES: { template: string; message: RegExp }[] = [
  { template: 'a//b', message: /empty segment/ },
  { template: '~/a', message: /starts with '~'/ },
  { template: 'a?b', message: /'\?' outside a parameter/ },
  { template: 'a/{b', message: /no closing '}'/ },
  { template: 'a/b}', message: /unmatched '}'/ },
  { template: 'a/{}', message: /invalid parameter name/ },
  { template: 'a/{b/c}', message: /invalid parameter name/ },
  { template: '{id}/x/{ID}', message: /"ID" appears more than once/ },
  { template: 'a/{*rest}/b', message: /catch-all "\{\*rest\}" must be the whole last segment/ },
  { template: 'a/x{*rest}', message: /catch-all/ },
  { template: 'a/{*rest?}', message: /already optional/ },
  { template: 'a/{id?}/b', message: /optional parameters must come last/ },
  { template: 'a/{id?}/{name}', message: /optional parameters must come last/ },
  { template: 'a/{id=3?}', message: /optional and has a default/ },
  { template: 'a/{x}{y}', message: /two consecutive parameters/ },
  { template: 'a/{x}-{y?}', message: /only a last parameter after '\.' can be optional/ },
  { template: 'a/{x}-{y=1}', message: /cannot have a default/ },
  { template: 'a/{id:integer}', message: /"integer" on "\{id\}" is unknown\. Supported: int, long/ },
  { template: 'a/{id:min}', message: /needs 1 whole-number argument/ },
  { template: 'a/{id:min(x)}', message: /needs 1 whole-number argument/ },
  { template: 'a/{id:range(1)}', message: /needs 2 whole-number argument/ },
  { template: 'a/{id:range(9,1)}', message: /write range\(1,9\)/ },
  { template: 'a/{id:int(3)}', message: /takes no arguments/ },
  { template: 'a/{id:regex(()}', message: /not a valid regular expression/ },
  { template: 'a/{id:regex(^a$}', message: /without its closing '\)'/ },
  { template: 'a/{id:int=abc}', message: /default "abc" .* does not satisfy its own constraints/ },
];

for (const c of ERROR_CASES) {
  test(`compileRoute rejects "${c.template}"`, () => {
    assert.throws(
      () => compileRoute(c.template),
      (err: unknown) =>
        err instanceof ValidationError && c.message.test(err.message) && err.message.includes(c.template),
    );
  });
}

test('compileRoute records parameter details', () => {
  const route = compileRoute('ws/{name:alpha:maxlength(8)}/{version=latest}/{*rest}');
  assert.deepEqual(route.parameterNames, ['name', 'version', 'rest']);
  const [literal, name, version, rest] = route.segments;
  assert.deepEqual(literal, { kind: 'literal', text: 'ws' });
  assert.ok(name?.kind === 'parameter');
  assert.deepEqual(
    name.parameter.constraints.map((c) => c.text),
    ['alpha', 'maxlength(8)'],
  );
  assert.ok(version?.kind === 'parameter' && version.parameter.defaultValue === 'latest');
  assert.ok(rest?.kind === 'parameter' && rest.parameter.catchAll);
  assert.deepEqual(compileRoute('a/{{literal}}/{x}').segments[1], { kind: 'literal', text: '{literal}' });
  assert.deepEqual(matchRoute(compileRoute('a/{{literal}}/{x}'), 'a/%7Bliteral%7D/1'), { x: '1' });
});

test('routeSpecificity gives ASP.NET precedence digits per segment', () => {
  const digits = (t: string): readonly number[] => routeSpecificity(compileRoute(t));
  assert.deepEqual(digits('a/b'), [1, 1]);
  assert.deepEqual(digits('a/{id:int}'), [1, 2]);
  assert.deepEqual(digits('a/{id}.{ext}'), [1, 2]);
  assert.deepEqual(digits('a/{id}'), [1, 3]);
  assert.deepEqual(digits('a/{*rest:minlength(1)}'), [1, 4]);
  assert.deepEqual(digits('a/{*rest}'), [1, 5]);
});

test('compareRouteSpecificity: literal routes before parameter routes before catch-alls', () => {
  const templates = [
    '{*any}',
    'workspaces/{name}/jobs/{job}',
    'workspaces/{*rest}',
    'workspaces/{name}',
    'workspaces/{name:alpha}',
    'workspaces/default/jobs/{job}',
    'workspaces/default',
    'workspaces',
    'workspaces/{name}/jobs',
    '{section}/default',
  ];
  const sorted = templates
    .map(compileRoute)
    .sort(compareRouteSpecificity)
    .map((r) => r.template);
  assert.deepEqual(sorted, [
    'workspaces',
    'workspaces/default',
    'workspaces/default/jobs/{job}',
    'workspaces/{name:alpha}',
    'workspaces/{name}',
    'workspaces/{name}/jobs',
    'workspaces/{name}/jobs/{job}',
    'workspaces/{*rest}',
    '{section}/default',
    '{*any}',
  ]);

  // first match in that order routes "workspaces/default" to the literal route
  const routes = templates.map(compileRoute).sort(compareRouteSpecificity);
  const first = (path: string): string | undefined => routes.find((r) => matchRoute(r, path) !== undefined)?.template;
  assert.equal(first('workspaces/default'), 'workspaces/default');
  assert.equal(first('workspaces/prod'), 'workspaces/{name:alpha}');
  assert.equal(first('workspaces/prod2'), 'workspaces/{name}');
  assert.equal(first('workspaces/prod/x/y'), 'workspaces/{*rest}');
  assert.equal(first('other/default'), '{section}/default');
  assert.equal(first('other/thing'), '{*any}');
});

test('compareRouteSpecificity is a total order, stable on equal precedence', () => {
  const a = compileRoute('b/{x}');
  const b = compileRoute('a/{y}');
  assert.ok(compareRouteSpecificity(a, b) > 0);
  assert.ok(compareRouteSpecificity(b, a) < 0);
  assert.equal(compareRouteSpecificity(a, compileRoute('b/{x}')), 0);
});
