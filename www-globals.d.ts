// What the page's scripts (www/) find on the window that no import declares: the scripting API
// (app.js), the bench page's results (bench.js, read by scripts/bench-web.mjs) and uPlot, a
// classic script of index.html (www/vendor/uPlot.iife.min.js). For tsc only (tsconfig.page.json).
interface Window {
  vanillanet: any;
  benchResult: any;
  benchError: any;
}
declare const uPlot: any;
