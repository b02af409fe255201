/**
 * A validator for the small subset of JSON Schema draft 2020-12 that manifests/manifest.schema.json
 * uses — enough to check the schema against the parser without a validator package. It refuses
 * any keyword it does not implement, so the schema cannot grow past what this checks.
 */

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default', '$defs']);
const KEYWORDS = new Set([
  '$ref',
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'items',
  'minItems',
  'uniqueItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
]);

export interface SchemaError {
  path: string;
  keyword: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    default:
      throw new Error(`schema-subset: type ${type} not implemented`);
  }
}

export function validate(root: Schema, value: unknown): SchemaError[] {
  const errors: SchemaError[] = [];
  const resolve = (ref: string): Schema => {
    const m = /^#\/\$defs\/([A-Za-z0-9]+)$/.exec(ref);
    const def = m ? (root.$defs as Record<string, Schema>)[m[1]!] : undefined;
    if (!def) throw new Error(`schema-subset: cannot resolve ${ref}`);
    return def;
  };
  const walk = (s: Schema, v: unknown, path: string): void => {
    for (const k of Object.keys(s)) {
      if (!KEYWORDS.has(k) && !ANNOTATIONS.has(k))
        throw new Error(`schema-subset: keyword ${k} not implemented`);
    }
    const fail = (keyword: string): void => {
      errors.push({ path, keyword });
    };
    if (typeof s.$ref === 'string') walk(resolve(s.$ref), v, path);
    if (typeof s.type === 'string' && !typeOk(s.type, v)) {
      fail('type');
      return;
    }
    if ('const' in s && v !== s.const) fail('const');
    if (Array.isArray(s.enum) && !s.enum.includes(v)) fail('enum');
    if (typeof v === 'number') {
      if (typeof s.minimum === 'number' && v < s.minimum) fail('minimum');
      if (typeof s.maximum === 'number' && v > s.maximum) fail('maximum');
    }
    if (typeof v === 'string') {
      const length = [...v].length;
      if (typeof s.minLength === 'number' && length < s.minLength) fail('minLength');
      if (typeof s.maxLength === 'number' && length > s.maxLength) fail('maxLength');
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) fail('pattern');
    }
    if (Array.isArray(v)) {
      if (typeof s.minItems === 'number' && v.length < s.minItems) fail('minItems');
      if (s.uniqueItems === true && new Set(v.map((x) => JSON.stringify(x))).size !== v.length)
        fail('uniqueItems');
      if (isObject(s.items)) {
        for (let i = 0; i < v.length; i++) walk(s.items, v[i], `${path}/${i}`);
      }
    }
    if (isObject(v)) {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      if (typeof s.minProperties === 'number' && Object.keys(v).length < s.minProperties)
        fail('minProperties');
      for (const r of (s.required ?? []) as string[]) if (!(r in v)) fail('required');
      for (const [k, x] of Object.entries(v)) {
        if (k in props) walk(props[k]!, x, `${path}/${k}`);
        else if (s.additionalProperties === false)
          errors.push({ path: `${path}/${k}`, keyword: 'additionalProperties' });
      }
    }
  };
  walk(root, value, '');
  return errors;
}
