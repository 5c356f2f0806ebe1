// The drawer's charts, drawn by uPlot on a canvas: MB/s over the position on the disk (one line
// per phase: the classic HDD curve, where a slow region or a slow drive stands out) and the
// drive's temperature over time.
import { useEffect, useRef } from "react";
import uPlot, { type AlignedData, type Options } from "uplot";
import "uplot/dist/uPlot.min.css";
import { PATTERNS, PHASES } from "../burn-in/scan";

const PHASE_COLOURS = ["#1f6feb", "#2da44e", "#0969da", "#1a7f37", "#54aeff", "#4ac26b", "#0550ae", "#116329"];
const STEP = 0.25;
const POINTS = 100 / STEP + 1;

export interface ScanSample {
  phase: number;
  phasePct: number;
  mbps?: number | null;
}

/** One x per 0.25% of a phase (its position on the disk), one y series per phase. */
export function curveData(samples: ReadonlyArray<ScanSample>, phases: number = PHASES): AlignedData {
  const x = Array.from({ length: POINTS }, (_, i) => i * STEP);
  const series: Array<Array<number | null>> = Array.from({ length: phases }, () => new Array<number | null>(POINTS).fill(null));
  for (const s of samples) {
    if (s.mbps == null || s.phase < 1 || s.phase > phases) continue;
    const i = Math.min(POINTS - 1, Math.max(0, Math.floor(s.phasePct / STEP)));
    (series[s.phase - 1] as Array<number | null>)[i] = s.mbps;
  }
  return [x, ...series] as AlignedData;
}

/**
 * A time axis for readings at `xs` (seconds): under 10 minutes of them are shown over 10 minutes
 * around them. uPlot stretches a lone point's time axis over 1,000 days (a one-reading chart read
 * Mar 2027 to Jun 2029) and does not ask a range function for it, so the scale is set after the data.
 */
export function paddedTimeRange(xs: ArrayLike<number>): { min: number; max: number } | null {
  if (xs.length === 0) return null;
  const min = xs[0] as number;
  const max = xs[xs.length - 1] as number;
  return max - min < 600 ? { min: min - 300, max: max + 300 } : null;
}

function useChart(
  options: Omit<Options, "width" | "height">,
  data: AlignedData,
  label: string,
  xRange?: (xs: ArrayLike<number>) => { min: number; max: number } | null,
) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const rangeOf = useRef(xRange);
  const fitX = (chart: uPlot, d: AlignedData) => {
    const range = rangeOf.current?.(d[0]);
    if (range) chart.setScale("x", range);
  };
  // Made once; later data is handed over with setData (no redraw of the whole chart).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // The x scale as drawn, for whoever reads the page (a test; uPlot draws on a canvas).
    const shown = (u: uPlot) => {
      const { min, max } = u.scales.x ?? {};
      if (min != null && max != null) {
        el.dataset.xMin = String(min);
        el.dataset.xMax = String(max);
      }
    };
    const chart = new uPlot(
      { ...options, width: Math.max(280, el.clientWidth), height: 220, hooks: { ...options.hooks, setScale: [shown] } } as Options,
      data,
      el,
    );
    fitX(chart, data);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(280, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    chart.setData(data);
    fitX(chart, data);
  }, [data]);
  return <div ref={box} className="chart" role="img" aria-label={label} />;
}

/** A phase's series label: badblocks' pattern, or fio's one pass (phases 1 and 2; no others). */
function phaseLabel(i: number, engine: string | null | undefined): string {
  const mode = i % 2 === 0 ? "write" : "verify";
  return engine === "fio" ? `${mode} (position-checked)` : `${mode} ${PATTERNS[Math.floor(i / 2)]}`;
}

export function SpeedCurve({ samples, engine }: { samples: ReadonlyArray<ScanSample>; engine?: string | null }) {
  const data = curveData(samples, engine === "fio" ? 2 : PHASES);
  const drawn = samples.filter((s) => s.mbps != null).length;
  const chart = useChart(
    {
      title: "MB/s over the disk",
      scales: { x: { time: false, range: [0, 100] } },
      axes: [{ label: "position on the disk (% of the phase)" }, { label: "MB/s" }],
      series: [
        { label: "position %" },
        ...Array.from({ length: engine === "fio" ? 2 : PHASES }, (_, i) => ({
          label: phaseLabel(i, engine),
          stroke: PHASE_COLOURS[i],
          width: 1.5,
          spanGaps: true,
        })),
      ],
    },
    data,
    `MB/s over the position on the disk, ${drawn} samples`,
  );
  return (
    <figure data-samples={drawn}>
      {chart}
      {drawn === 0 ? <figcaption className="hint">No speed samples yet: the first comes with the scan's second reading.</figcaption> : null}
    </figure>
  );
}

export function TemperatureChart({ readings }: { readings: ReadonlyArray<{ at: string; celsius: number }> }) {
  const data: AlignedData = [readings.map((r) => Date.parse(r.at) / 1000), readings.map((r) => r.celsius)];
  const chart = useChart(
    {
      title: "Temperature",
      axes: [{}, { label: "°C" }],
      series: [{}, { label: "°C", stroke: "#cf222e", width: 1.5 }],
    },
    data,
    `Temperature over time, ${readings.length} readings`,
    paddedTimeRange,
  );
  return (
    <figure data-readings={readings.length}>
      {chart}
      {readings.length === 0 ? <figcaption className="hint">No temperature readings for this job yet (one a minute).</figcaption> : null}
    </figure>
  );
}
