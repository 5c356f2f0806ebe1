// Every way a client can spell "call this root field": plain, aliased, inside a typed or untyped
// inline fragment, through a fragment spread, through fragments nested in fragments, under a
// directive. Documents are generated from the schema, so a new root field is covered by itself;
// arguments get the simplest value of their type (the call may then fail validation in its
// resolver, which is past the authorization under test).
import {
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
  validate,
} from "graphql";

export type Root = "Query" | "Mutation" | "Subscription";
export const SHAPES = ["plain", "aliased", "inline", "untyped-inline", "spread", "nested", "directive"] as const;
export type Shape = (typeof SHAPES)[number];

/** The key the field's answer has in `data`. */
export const ALIAS = "kilnAlias";

const SCALAR_LITERALS: Record<string, string> = {
  ID: '"x"',
  String: '"x"',
  Int: "1",
  Float: "1",
  Boolean: "false",
  DateTime: '"2026-01-01T00:00:00Z"',
};

/** The simplest literal of an input type: required input fields filled, optional ones left out. */
export function literalFor(type: GraphQLInputType): string {
  if (isNonNullType(type)) return literalFor(type.ofType);
  if (isListType(type)) return `[${literalFor(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0]?.name ?? "";
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${fields.map((f) => `${f.name}: ${literalFor(f.type)}`).join(", ")} }`;
  }
  if (isScalarType(type)) {
    const literal = SCALAR_LITERALS[type.name];
    if (!literal) throw new Error(`no literal for scalar ${type.name}: add one to SCALAR_LITERALS`);
    return literal;
  }
  throw new Error(`no literal for ${String(type)}`);
}

function call(field: GraphQLField<unknown, unknown>, alias: boolean): string {
  const args = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  const argText = args.length ? `(${args.map((a) => `${a.name}: ${literalFor(a.type)}`).join(", ")})` : "";
  const selection = isLeafType(getNamedType(field.type)) ? "" : " { __typename }";
  return `${alias ? `${ALIAS}: ` : ""}${field.name}${argText}${selection}`;
}

const KEYWORD: Record<Root, string> = { Query: "query", Mutation: "mutation", Subscription: "subscription" };

/** The document that calls `field` of `root` in `shape`; its answer is under `data[keyOf(shape, field)]`. */
export function documentFor(root: Root, field: GraphQLField<unknown, unknown>, shape: Shape): string {
  const op = KEYWORD[root];
  switch (shape) {
    case "plain":
      return `${op} { ${call(field, false)} }`;
    case "aliased":
      return `${op} { ${call(field, true)} }`;
    case "inline":
      return `${op} { ... on ${root} { ${call(field, false)} } }`;
    case "untyped-inline":
      return `${op} { ... { ${call(field, true)} } }`;
    case "spread":
      return `${op} { ...KilnCall } fragment KilnCall on ${root} { ${call(field, false)} }`;
    case "nested":
      return `${op} { ... on ${root} { ...KilnOuter } } fragment KilnOuter on ${root} { ... { ...KilnInner } } fragment KilnInner on ${root} { ${call(field, true)} }`;
    case "directive":
      return `${op} { ... on ${root} @include(if: true) { ${call(field, false)} } }`;
  }
}

export function keyOf(shape: Shape, field: GraphQLField<unknown, unknown>): string {
  return shape === "aliased" || shape === "untyped-inline" || shape === "nested" ? ALIAS : field.name;
}

export interface RootCall {
  root: Root;
  field: GraphQLField<unknown, unknown>;
  shape: Shape;
  document: string;
  key: string;
}

/**
 * Every root field of `schema` in every shape the schema accepts (graphql-js refuses some
 * spellings of a subscription: those are not requests a server would run, and are left out).
 */
export function rootCalls(schema: GraphQLSchema): RootCall[] {
  const calls: RootCall[] = [];
  const roots: Array<[Root, GraphQLObjectType | null | undefined]> = [
    ["Query", schema.getQueryType()],
    ["Mutation", schema.getMutationType()],
    ["Subscription", schema.getSubscriptionType()],
  ];
  for (const [root, type] of roots) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      for (const shape of SHAPES) {
        const document = documentFor(root, field, shape);
        if (validate(schema, parse(document)).length) continue;
        calls.push({ root, field, shape, document, key: keyOf(shape, field) });
      }
    }
  }
  return calls;
}
