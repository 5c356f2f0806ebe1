// A list of a type selected inside a list of the same type (drives { host { drives { host { drives
// ... } } } }) makes a response grow as a power of the list's length: 7 levels of a 250-byte query
// answered 2.7 MB. No screen or script needs that, so such a query is refused before it runs.
// Fragments are followed, so a cycle cannot hide in one.
import {
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLNamedType,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";
import type { Plugin } from "graphql-yoga";

function noListCycles(context: ValidationContext) {
  const schema = context.getSchema();
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

  const walk = (set: SelectionSetNode, parent: GraphQLNamedType | null | undefined, lists: string[], seen: Set<string>): boolean => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!parent || !(isObjectType(parent) || isInterfaceType(parent))) continue;
        const field = parent.getFields()[selection.name.value];
        if (!field || !selection.selectionSet) continue;
        const type = getNamedType(field.type);
        const isList = isListType(getNullableType(field.type));
        if (isList && lists.includes(type.name)) {
          const message = `${parent.name}.${field.name} lists ${type.name} inside a list of ${type.name}: Kiln refuses nested lists of one type`;
          context.reportError(new GraphQLError(message, { nodes: [selection] }));
          return false;
        }
        if (!walk(selection.selectionSet, type, isList ? [...lists, type.name] : lists, seen)) return false;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (!walk(selection.selectionSet, type, lists, seen)) return false;
      } else {
        const fragment = fragments.get(selection.name.value);
        // A fragment spread inside itself is refused by GraphQL's own rules.
        if (!fragment || seen.has(fragment.name.value)) continue;
        const type = schema.getType(fragment.typeCondition.name.value);
        if (!walk(fragment.selectionSet, type, lists, new Set([...seen, fragment.name.value]))) return false;
      }
    }
    return true;
  };

  return {
    OperationDefinition(node: OperationDefinitionNode) {
      const root =
        node.operation === "query"
          ? schema.getQueryType()
          : node.operation === "mutation"
            ? schema.getMutationType()
            : schema.getSubscriptionType();
      walk(node.selectionSet, root, [], new Set());
      return false; // this rule looked at the whole operation; nothing below needs a visit
    },
  };
}

export function useNoListCycles(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(noListCycles);
    },
  };
}
