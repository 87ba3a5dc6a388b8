// A value that satisfies a tool's JSON Schema (`input_schema`), for the simulated upstream's
// `tool_use` answers: the required properties only (what a model must fill in), each the first of
// `const`, `default`, `enum`, `examples`, else the plainest value of its type within its bounds.
// Deterministic; covers the schema subset tools use (object, array, string, number, integer,
// boolean, null, anyOf/oneOf/allOf, nullable type lists). `$ref` and unknown forms give `{}`.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const MAX_DEPTH = 8;

export function sampleFromSchema(schema: unknown, depth = 0): Json {
  if (!isObj(schema) || depth > MAX_DEPTH) return {};
  if ("const" in schema) return schema["const"] as Json;
  if ("default" in schema) return schema["default"] as Json;
  const enumValues = schema["enum"];
  if (Array.isArray(enumValues) && enumValues.length > 0) return enumValues[0] as Json;
  const examples = schema["examples"];
  if (Array.isArray(examples) && examples.length > 0) return examples[0] as Json;
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) return sampleFromSchema(options.find((o) => !(isObj(o) && o["type"] === "null")) ?? options[0], depth + 1);
  }
  const declared = schema["type"];
  const type = Array.isArray(declared) ? (declared.find((t) => t !== "null") ?? declared[0]) : declared;
  const num = (k: string): number | undefined => (typeof schema[k] === "number" ? (schema[k] as number) : undefined);
  switch (type) {
    case "string": {
      const min = num("minLength") ?? 0;
      const text = "simulated";
      return text.length >= min ? text : text.padEnd(min, "x");
    }
    case "integer":
    case "number": {
      const exclusive = num("exclusiveMinimum");
      const min = num("minimum") ?? (exclusive !== undefined ? exclusive + 1 : undefined);
      const value = min ?? 1;
      const max = num("maximum");
      return max !== undefined && value > max ? max : value;
    }
    case "boolean":
      return true;
    case "null":
      return null;
    case "array": {
      const n = num("minItems") ?? 0;
      return Array.from({ length: n }, () => sampleFromSchema(schema["items"], depth + 1));
    }
    default: {
      const props = isObj(schema["properties"]) ? schema["properties"] : {};
      const required = Array.isArray(schema["required"]) ? schema["required"].filter((r): r is string => typeof r === "string") : [];
      const out: Record<string, Json> = {};
      for (const name of required) out[name] = sampleFromSchema(props[name], depth + 1);
      return out;
    }
  }
}
