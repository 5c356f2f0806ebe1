// The start-up bench's baseline: a bare graphql-yoga hello server on the port given.
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";

const yoga = createYoga({
  schema: createSchema({ typeDefs: "type Query { hello: String }", resolvers: { Query: { hello: () => "hi" } } }),
});
createServer(yoga).listen(Number(process.argv[2]), "127.0.0.1");
