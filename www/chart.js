// A uPlot chart in its place on the page, as wide as the place; the step axis's ticks. Shared
// by the views that draw charts (views/charts.js, views/inside.js, views/study.js).
import { $ } from "./dom.js";

// Steps are whole numbers: no ticks between them.
export const STEP_TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

/** A chart of `series` (uPlot's, after the x series) in the element `id`; `opts`: `scales`,
 * `axes`. */
export function chart(id, series, opts = {}) {
  const target = $(id);
  const plot = new uPlot({
    width: target.clientWidth || 360, height: 200, legend: { show: series.length > 2 },
    scales: { x: { time: false }, ...(opts.scales ?? {}) },
    axes: opts.axes ?? [{}, {}],
    series: [{ label: "x" }, ...series],
  }, [[], ...series.map(() => [])], target);
  // As wide as its place, when the window (a phone turned, say) changes.
  new ResizeObserver(() => {
    const width = target.clientWidth;
    if (width && Math.abs(width - plot.width) > 1) plot.setSize({ width, height: 200 });
  }).observe(target);
  return plot;
}
