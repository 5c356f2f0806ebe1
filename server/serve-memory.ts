// V8 settings that keep an idle `kiln serve` small (BENCHMARKS.md, start-up). Measured on Node 20:
// - While modules load, the schema is built and the database opens, V8 grows its young
//   generation to its largest semi-spaces (32 MiB in all), and a server that then idles, as Kiln
//   mostly does, keeps them. Kiln holds that growth off during start-up and allows it again after.
// - Prisma's query compiler is WebAssembly. V8's optimising tier recompiles its hot functions on
//   a background thread whose malloc arena keeps up to 14 MiB afterwards; the baseline compiler
//   alone (Liftoff) is as fast here, since Prisma caches query plans.
import v8 from "node:v8";

/** V8's default semi_space_growth_factor. */
const DEFAULT_GROWTH_FACTOR = 2;

/** Before anything of the server loads. */
export function beforeServerStart(): void {
  v8.setFlagsFromString("--liftoff-only");
  v8.setFlagsFromString("--semi-space-growth-factor=1");
}

/** Once the server listens. */
export function afterServerStart(): void {
  v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
}
