// The history bench's baseline: a bare graphql-yoga server answering the same page with
// hand-written SQL (keyset on createdAt, one query for the jobs with their drives, one for their
// stages). Run as its own process: tsx bench/history-baseline.ts DATABASE_URL PORT
import { createServer } from "node:http";
import Database from "better-sqlite3";
import { createSchema, createYoga } from "graphql-yoga";
import pg from "pg";
import { pgConnectionString, providerOf, sqliteFilePath } from "../server/db/url.js";

const [url, port] = process.argv.slice(2) as [string, string];
type Row = Record<string, unknown>;
let query: (sql: string, params: unknown[]) => Promise<Row[]>;
const sqlite = providerOf({ url }) === "sqlite";
if (sqlite) {
  const db = new Database(sqliteFilePath(url), { readonly: true });
  query = async (sql, params) => db.prepare(sql).all(...params) as Row[];
} else {
  const pool = new pg.Pool({ connectionString: pgConnectionString(url), max: 10 });
  // pg numbers its placeholders.
  const numbered = (sql: string) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  query = async (sql, params) => (await pool.query(numbered(sql), params)).rows;
}
const q = (name: string) => (sqlite ? name : `"${name}"`);

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query { jobs(first: Int!, status: [String!]): JobConnection! }
    type JobConnection { edges: [JobEdge!]! }
    type JobEdge { cursor: String!, node: Job! }
    type Job { id: ID!, serial: String!, profile: String!, status: String!, progressPct: Float!, createdAt: String!, finishedAt: String, drive: Drive!, stages: [Stage!]! }
    type Drive { serial: String!, model: String }
    type Stage { name: String!, status: String!, progressPct: Float! }
  `,
  resolvers: {
    Query: {
      jobs: async (_: unknown, args: { first: number; status?: string[] }) => {
        const where = args.status?.length ? `WHERE j.status IN (${args.status.map(() => "?").join(",")})` : "";
        const jobs = await query(
          `SELECT j.id, j.serial, j.profile, j.status, j.${q("progressPct")} AS "progressPct", j.${q("createdAt")} AS "createdAt",
                  j.${q("finishedAt")} AS "finishedAt", d.serial AS "driveSerial", d.model AS "driveModel"
           FROM ${q("BurnInJob")} j JOIN ${q("Drive")} d ON d.id = j.${q("driveId")} ${where}
           ORDER BY j.${q("createdAt")} DESC, j.id DESC LIMIT ?`,
          [...(args.status ?? []), args.first],
        );
        const ids = jobs.map((j) => j.id);
        const stages = ids.length
          ? await query(
              `SELECT ${q("jobId")} AS "jobId", name, status, ${q("progressPct")} AS "progressPct" FROM ${q("Stage")}
               WHERE ${q("jobId")} IN (${ids.map(() => "?").join(",")}) ORDER BY ${q("jobId")}, position`,
              ids,
            )
          : [];
        const byJob = new Map<unknown, Row[]>();
        for (const s of stages) byJob.set(s.jobId, [...(byJob.get(s.jobId) ?? []), s]);
        return {
          edges: jobs.map((j) => ({
            cursor: String(j.id),
            node: {
              ...j,
              createdAt: String(j.createdAt),
              finishedAt: j.finishedAt == null ? null : String(j.finishedAt),
              drive: { serial: j.driveSerial, model: j.driveModel },
              stages: byJob.get(j.id) ?? [],
            },
          })),
        };
      },
    },
  },
});

const yoga = createYoga({ schema, logging: false, graphiql: false });
createServer(yoga).listen(Number(port), "127.0.0.1", () => console.log("ready"));
