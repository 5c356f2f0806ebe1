// The four pattern meters of a surface scan, each split into its write half (blue) and verify
// half (green), the current one highlighted; the caption; the finished patterns' durations.
import {
  fioCaption,
  fioMeter,
  formatDuration,
  type PatternMeter,
  patternDurations,
  patternMeters,
  phaseCaption,
  predictedRemainingMs,
} from "../burn-in/scan";
import { type FragmentType, graphql, useFragment } from "../gql";

export const PatternMeters_stage = graphql(`
  fragment PatternMeters_stage on Stage {
    id
    status
    finishedAt
    surfaceScan {
      engine
      phase
      phasePct
      history {
        phase
        startedAt
      }
    }
  }
`);

export function PatternMeters(props: {
  stage: FragmentType<typeof PatternMeters_stage>;
  /** The newest live phase, when events arrive faster than the stage is read. */
  live?: { phase: number | null | undefined; phasePct: number | null | undefined } | null;
  now: number;
}) {
  const stage = useFragment(PatternMeters_stage, props.stage);
  const finished = stage.status === "passed";
  const phase = props.live?.phase ?? stage.surfaceScan?.phase ?? null;
  const phasePct = props.live?.phasePct ?? stage.surfaceScan?.phasePct ?? null;
  const history = stage.surfaceScan?.history ?? [];
  const fio = stage.surfaceScan?.engine === "fio";
  // fio: one meter for its one pass; its durations and time left are not estimated yet.
  const meters: Array<Omit<PatternMeter, "pattern"> & { pattern: string }> = fio
    ? [{ pattern: "data", ...fioMeter(phase, phasePct, finished) }]
    : patternMeters(phase, phasePct, finished);
  const durations = fio ? [] : patternDurations(history, stage.finishedAt);
  const remaining = !fio && stage.status === "running" ? predictedRemainingMs(history, phase, props.now) : null;
  return (
    <div className="meters-block">
      <ol className="meters" aria-label={fio ? "fio position-checked pass" : "badblocks patterns"}>
        {meters.map((m) => (
          <li key={m.pattern} className={m.current ? "meter current" : "meter"} aria-current={m.current ? "step" : undefined}>
            <span className="meter-label">{m.pattern}</span>
            <span className="meter-track">
              <span className="half write" title={`write ${m.pattern}: ${Math.floor(m.write)}%`}>
                <span className="fill" style={{ width: `${m.write}%` }} />
              </span>
              <span className="half verify" title={`verify ${m.pattern}: ${Math.floor(m.verify)}%`}>
                <span className="fill" style={{ width: `${m.verify}%` }} />
              </span>
            </span>
            <span className="meter-sub">
              <span className={m.running === "write" ? "on" : undefined}>W</span>
              <span className={m.running === "verify" ? "on" : undefined}>V</span>
            </span>
          </li>
        ))}
      </ol>
      <p className="caption" data-testid="phase-caption">
        {fio ? fioCaption(phase, phasePct, finished) : finished ? "All 4 patterns written and verified" : phaseCaption(phase, phasePct)}
      </p>
      {durations.length ? (
        <p className="durations">
          {durations.map((d) => `${d.pattern}: ${formatDuration(d.ms)}`).join(" · ")}
          {remaining !== null ? ` · about ${formatDuration(remaining)} left in the scan` : ""}
        </p>
      ) : null}
    </div>
  );
}
