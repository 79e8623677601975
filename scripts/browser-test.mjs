// Checks whatif.html and report.html in headless Chromium (driven by playwright-core):
// the what-if page opened with a hash shows the figures of results.csv at that point,
// a slider moves them to the next point's, neither page scrolls sideways at 1280 px,
// nothing is fetched, and both are screenshotted. Run through scripts/browser-test.sh.
//
//   node browser-test.mjs TOOLS_DIR WHATIF_DIR REPORT_DIR SHOTS_DIR

import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [toolsDir, whatifDir, reportDir, shotsDir] = process.argv.slice(2).map((p) => resolve(p));
const require = createRequire(join(toolsDir, "package.json"));
const { chromium } = require("playwright-core");

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed += 1;
    console.log(`ok   ${what}`);
  } else {
    failed += 1;
    console.log(`FAIL ${what}`);
  }
}

// results.csv: the swept paths, then layout, usd_per_month, usd_per_stream_hour,
// throttles, latency_p50_ms. Values hold no commas or quotes.
const [head, ...lines] = readFileSync(join(whatifDir, "results.csv"), "utf8").trim().split("\n");
const header = head.split(",");
const nDims = header.indexOf("layout");
const dims = header.slice(0, nDims);
const rows = lines.map((l) => {
  const f = l.split(",");
  return {
    at: f.slice(0, nDims),
    layout: f[nDims],
    usd: Number(f[nDims + 1]),
    throttles: Number(f[nDims + 3]),
  };
});
const valuesOf = (i) => [...new Set(rows.map((r) => r.at[i]))];
const costsAt = (at) => rows.filter((r) => r.at.every((v, i) => v === at[i]));

// Half a unit of the last digit shown: "$1,544.33" is within 0.005 of the figure.
function shownMatches(text, value) {
  const digits = text.replace(/[$,]/g, "");
  const decimals = (digits.split(".")[1] || "").length;
  return Math.abs(Number(digits) - value) <= 0.5 * 10 ** -decimals + 1e-12;
}

async function figuresShown(page) {
  return page.$$eval("#layouts-body tr", (trs) =>
    trs.map((tr) => ({
      layout: tr.dataset.layout,
      cost: tr.querySelector("td.cost").textContent,
    })),
  );
}

function compare(shown, at, label) {
  const want = costsAt(at);
  check(want.length > 0 && shown.length === want.length, `${label}: one row per layout (${shown.length})`);
  for (const w of want) {
    const s = shown.find((x) => x.layout === w.layout);
    check(s && shownMatches(s.cost, w.usd), `${label}: ${w.layout} shows ${s && s.cost}, results.csv ${w.usd}`);
  }
  return want;
}

async function verdictMatches(page, want, label) {
  const cheapest = want.reduce((a, b) => (b.usd < a.usd ? b : a));
  const verdict = await page.textContent("#verdict");
  check(verdict.includes(`${cheapest.layout} is cheapest`), `${label}: verdict names ${cheapest.layout}: "${verdict}"`);
  const saving = await page.textContent("#saving");
  if (cheapest.layout !== want[0].layout && want[0].usd > 0) {
    const pct = (1 - cheapest.usd / want[0].usd) * 100;
    check(Math.abs(parseFloat(saving) - pct) <= 0.05 + 1e-9, `${label}: saving ${saving} is ${pct.toFixed(2)}%`);
  }
}

const profile = mkdtempSync(join(tmpdir(), "archsim-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
mkdirSync(shotsDir, { recursive: true });
try {
  const page = context.pages()[0] || (await context.newPage());
  const fetched = [];
  page.on("request", (r) => {
    if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) fetched.push(r.url());
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  // A setting in the middle of the grid, by hash.
  const at = dims.map((_, i) => {
    const vs = valuesOf(i);
    return vs[Math.floor((vs.length - 1) / 2)];
  });
  const hash = dims.map((d, i) => `${encodeURIComponent(d)}=${encodeURIComponent(at[i])}`).join("&");
  const whatif = pathToFileURL(join(whatifDir, "whatif.html")).href;
  await page.goto(`${whatif}#${hash}`);
  for (let i = 0; i < dims.length; i++) {
    const shown = await page.textContent(`#dim-${i}-value`);
    check(shown === at[i], `slider ${dims[i]} opens at the hash's ${at[i]} (shows ${shown})`);
  }
  const before = compare(await figuresShown(page), at, "from the hash");
  await verdictMatches(page, before, "from the hash");

  // Move the first slider one step right: the figures follow to the next grid point.
  const next = [...at];
  const first = valuesOf(0);
  next[0] = first[first.indexOf(at[0]) + 1];
  await page.focus("#dim-0");
  await page.keyboard.press("ArrowRight");
  const afterShown = await figuresShown(page);
  const after = compare(afterShown, next, `after the slider (${dims[0]} = ${next[0]})`);
  await verdictMatches(page, after, "after the slider");
  check(
    before.some((b) => after.find((a) => a.layout === b.layout).usd !== b.usd),
    "the figures changed with the slider",
  );
  const newHash = decodeURIComponent(new URL(page.url()).hash);
  check(newHash.includes(`${dims[0]}=${next[0]}`), `the hash follows the slider (${newHash})`);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 1280, `whatif.html does not scroll sideways at 1280 px (${wide} px)`);
  await page.goto(`${whatif}#${hash}`);
  await page.screenshot({ path: join(shotsDir, "whatif.png"), fullPage: true });

  const report = pathToFileURL(join(reportDir, "report.html")).href;
  await page.goto(report);
  // Overflow of the page, or of any table or chart inside it (a table could scroll
  // inside its box while the page itself stays 1280 px wide).
  const overflow = await page.evaluate(() =>
    Math.max(
      document.documentElement.scrollWidth - window.innerWidth,
      ...[...document.querySelectorAll("table, figure, svg")].map((e) => e.scrollWidth - e.clientWidth),
    ),
  );
  check(overflow <= 0, `report.html: nothing scrolls sideways at 1280 px (overflow ${overflow} px)`);
  const lead = await page.evaluate(() => document.querySelector("h1 ~ .verdict") !== null);
  check(lead, "report.html leads with the verdict");
  await page.screenshot({ path: join(shotsDir, "report-top.png") });
  await page.screenshot({ path: join(shotsDir, "report.png"), fullPage: true });
  // One screen from each section's heading, to look at without scrolling a tall image.
  const sections = await page.$$eval("h2", (hs) => hs.map((h) => [h.textContent, h.getBoundingClientRect().top + window.scrollY]));
  for (const [title, y] of sections) {
    await page.evaluate((top) => window.scrollTo(0, top - 10), y);
    await page.screenshot({ path: join(shotsDir, `report-${title.toLowerCase().replace(/[^a-z]+/g, "-")}.png`) });
  }
  await page.emulateMedia({ media: "print" });
  const printWide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(printWide <= 1280, `report.html in print media fits (${printWide} px)`);
  await page.pdf({ path: join(shotsDir, "report.pdf"), format: "A4" });

  check(fetched.length === 0, `nothing fetched (${fetched.join(" ") || "none"})`);
  check(errors.length === 0, `no script errors (${errors.join("; ") || "none"})`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`screenshots in ${shotsDir}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
