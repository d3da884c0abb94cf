// testfleet's run browser: reads the aggregator's API and draws the runs list, a run, a suite and a test's
// history. No build step, no library. Every text that comes from the API goes into the page as text
// (textContent, text nodes, attribute values), never as HTML.
//
// Pages say they are done with <html data-ready="PAGE">; any script error shows #script-error and sets
// data-script-error, which tests/e2e/run_browser.py looks for.
'use strict';

function showScriptError(message) {
  document.documentElement.setAttribute('data-script-error', 'true');
  document.title = 'testfleet: script error';
  let box = document.getElementById('script-error');
  if (!box) {
    box = document.createElement('div');
    box.id = 'script-error';
    document.body.prepend(box);
  }
  box.textContent = 'Script error: ' + message;
}
window.addEventListener('error', (e) => showScriptError(e.message || String(e.error)));
window.addEventListener('unhandledrejection', (e) => showScriptError(String(e.reason)));

// An element with attributes and children; strings become text nodes.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

async function api(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(body.error || res.status + ' ' + res.statusText);
  return body;
}

class ApiError extends Error {}

const seconds = (ms) => (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
const when = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '');
const verdictOf = (run) =>
  run.state === 'cancelled' ? 'cancelled' : run.state !== 'complete' ? 'running' : run.passed ? 'passed' : 'failed';
const runLink = (id) => el('a', { href: '#/run/' + encodeURIComponent(id) }, id);
const suiteLink = (suite) => el('a', { href: '#/suite/' + encodeURIComponent(suite) }, suite);
const testLink = (suite, test) =>
  el('a', { href: '#/test?' + new URLSearchParams({ suite, test }).toString() }, test);
const table = (head, rows) =>
  el('table', {}, el('tr', {}, head.map((h) => el('th', {}, h))), rows);

// The page for the location's hash: "#/runs?…", "#/run/ID", "#/suite/NAME", "#/test?suite=…&test=…".
async function route() {
  const hash = location.hash.replace(/^#/, '') || '/runs';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  const page = document.getElementById('page');
  document.documentElement.removeAttribute('data-ready');
  let name, content;
  try {
    if (path.startsWith('/run/')) {
      name = 'run';
      content = await runPage(decodeURIComponent(path.slice(5)));
    } else if (path.startsWith('/suite/')) {
      name = 'suite';
      content = await suitePage(decodeURIComponent(path.slice(7)));
    } else if (path === '/test') {
      name = 'test';
      content = await testPage(params.get('suite') || '', params.get('test') || '');
    } else {
      name = 'runs';
      content = await runsPage(params);
    }
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    name = 'api-error';
    content = el('p', { id: 'api-error', class: 'failed' }, 'The API answered: ' + e.message);
  }
  page.replaceChildren(content);
  document.documentElement.setAttribute('data-ready', name);
}

async function runsPage(params) {
  const query = new URLSearchParams();
  for (const key of ['suite', 'status', 'cursor']) if (params.get(key)) query.set(key, params.get(key));
  for (const label of params.getAll('label')) if (label) query.append('label', label);
  const list = await api('/v1/runs?' + query.toString());
  document.title = 'testfleet: runs';

  const status = el('select', { name: 'status' },
    ['', 'running', 'complete', 'passed', 'failed'].map((s) => el('option', { value: s }, s || 'any')));
  status.value = params.get('status') || '';
  const form = el('form', { id: 'filters' },
    el('label', {}, 'suite', el('input', { name: 'suite', value: params.get('suite') || '' })),
    el('label', {}, 'label (KEY:VALUE)', el('input', { name: 'label', value: params.get('label') || '' })),
    el('label', {}, 'status', status),
    el('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) next.append(k, v);
    location.hash = '#/runs?' + next.toString();
  });

  const rows = list.runs.map((run) => el('tr', { class: 'run' },
    el('td', {}, runLink(run.run_id)),
    el('td', {}, suiteLink(run.suite)),
    el('td', { class: verdictOf(run) }, verdictOf(run)),
    el('td', { class: 'num' }, run.jobs_done + '/' + run.expected_jobs),
    el('td', { class: 'num' }, run.jobs_failing),
    el('td', {}, when(run.submitted_at_ms)),
    el('td', {}, Object.entries(run.labels || {}).map(([k, v]) => k + ':' + v).join(' '))));
  const more = [];
  if (list.next_cursor) {
    const next = new URLSearchParams(query);
    next.set('cursor', list.next_cursor);
    more.push(el('a', { id: 'next-page', href: '#/runs?' + next.toString() }, 'Older runs →'));
  }
  return el('section', { id: 'runs' }, el('h1', {}, 'Runs'), form,
    list.runs.length ? table(['run', 'suite', 'verdict', 'jobs', 'failing', 'submitted', 'labels'], rows)
      : el('p', { class: 'muted' }, 'No runs match.'),
    more);
}

async function runPage(id) {
  const run = await api('/v1/runs/' + encodeURIComponent(id));
  document.title = 'testfleet: ' + run.run_id;
  const s = run.summary || {};
  const base = '/v1/runs/' + encodeURIComponent(run.run_id);
  const jobs = (run.jobs || []).map((job) => jobSection(base, job));
  return el('section', { id: 'run' },
    el('h1', {}, 'Run ', run.run_id),
    el('p', {}, 'suite ', suiteLink(run.suite), ' · ', el('span', { class: verdictOf(run) }, verdictOf(run)),
      ' · submitted ', when(run.submitted_at_ms), ' · ', seconds(s.wall_ms || 0)),
    el('p', {}, `${s.total} tests: ${s.passed} passed, ${s.failed} failed, ${s.flaky} flaky, ${s.skipped} skipped, ` +
      `${s.timeout} timed out, ${s.oom} out of memory, ${s.crashed} crashed, ${s.error} errors`),
    el('p', {}, el('a', { href: base + '/report.html' }, 'HTML report'), ' · ',
      el('a', { href: base + '/junit.xml' }, 'JUnit XML'), ' · ', el('a', { href: base + '/summary.md' }, 'Markdown')),
    el('h2', {}, 'Jobs (', jobs.length, ')'), jobs);
}

function jobSection(base, job) {
  const failing = !['passed', 'skipped'].includes(job.verdict);
  const cases = (job.cases || []).map((c) => {
    const name = c.classname && c.classname !== c.name ? c.classname + '::' + c.name : c.name;
    return el('tr', { class: 'case' },
      el('td', {}, name), el('td', { class: c.status }, c.status), el('td', { class: 'num' }, seconds(c.duration_ms)),
      el('td', {}, c.message || ''));
  });
  const artifacts = (job.artifacts || []).map((a) => el('li', {},
    el('a', { href: base + '/jobs/' + encodeURIComponent(job.job_id) + '/artifacts/' +
      a.path.split('/').map(encodeURIComponent).join('/') }, a.path),
    ' (', a.size, ' bytes', a.truncated ? ', truncated' : '', ')'));
  const details = el('details', { class: 'job', open: failing ? '' : null },
    el('summary', {}, job.name, ' — ', el('span', { class: job.verdict }, job.verdict), ' — ', seconds(job.wall_ms),
      job.attempt > 1 ? ` (attempt ${job.attempt})` : ''),
    job.error ? el('p', { class: 'failed' }, job.error) : null,
    cases.length ? table(['test', 'verdict', 'time', 'message'], cases) : null,
    artifacts.length ? [el('h4', {}, 'Artifacts'), el('ul', {}, artifacts)] : null,
    job.stdout_tail ? [el('h4', {}, 'stdout (tail)'), el('pre', { class: 'stdout' }, job.stdout_tail)] : null,
    job.stderr_tail ? [el('h4', {}, 'stderr (tail)'), el('pre', { class: 'stderr' }, job.stderr_tail)] : null);
  return details;
}

async function suitePage(suite) {
  const name = encodeURIComponent(suite);
  const [flaky, slowest, trend] = await Promise.all([
    api(`/v1/suites/${name}/flaky`), api(`/v1/suites/${name}/slowest?limit=10`), api(`/v1/suites/${name}/trend`)]);
  document.title = 'testfleet: ' + suite;
  return el('section', { id: 'suite' },
    el('h1', {}, 'Suite ', suite),
    el('p', {}, el('a', { href: '#/runs?' + new URLSearchParams({ suite }).toString() }, 'Its runs')),
    el('h2', {}, 'Trend over the last ', trend.points.length, ' complete runs'),
    trendCharts(trend.points),
    el('h2', {}, 'Flaky tests'),
    flaky.tests.length
      ? table(['test', 'runs', 'passed', 'failed', 'flaky'], flaky.tests.map((t) => el('tr', { class: 'flaky-test' },
        el('td', {}, testLink(suite, t.test)), el('td', { class: 'num' }, t.runs), el('td', { class: 'num' }, t.passed),
        el('td', { class: 'num' }, t.failed), el('td', { class: 'num' }, t.flaky))))
      : el('p', { class: 'muted', id: 'no-flaky' }, 'None in the last ', flaky.runs, ' runs.'),
    el('h2', {}, 'Slowest tests'),
    table(['test', 'runs', 'mean', 'max'], slowest.tests.map((t) => el('tr', { class: 'slow-test' },
      el('td', {}, testLink(suite, t.test)), el('td', { class: 'num' }, t.runs),
      el('td', { class: 'num' }, seconds(t.mean_ms)), el('td', { class: 'num' }, seconds(t.max_ms))))));
}

// Two small charts, oldest run on the left: wall time as bars (red when the run failed), success rate as a line.
function trendCharts(points) {
  if (!points.length) return el('p', { class: 'muted' }, 'No complete runs yet.');
  const w = 480, h = 120, pad = 24, step = (w - 2 * pad) / points.length;
  const maxMs = Math.max(...points.map((p) => p.wall_ms), 1);
  const bars = points.map((p, i) => {
    const bh = ((h - 2 * pad) * p.wall_ms) / maxMs;
    return svg('rect', { class: p.passed ? 'bar' : 'bar failed', x: pad + i * step + 1, y: h - pad - bh,
      width: Math.max(step - 2, 1), height: bh }, svg('title', {}, `${p.run_id}: ${seconds(p.wall_ms)}`));
  });
  const duration = svg('svg', { id: 'trend-duration', width: w, height: h, viewBox: `0 0 ${w} ${h}` },
    svg('text', { x: pad, y: 14 }, 'wall time (max ' + seconds(maxMs) + ')'), ...bars);
  const xy = points.map((p, i) =>
    [pad + i * step + step / 2, h - pad - ((h - 2 * pad) * p.success_rate) / 100].map((v) => v.toFixed(1)).join(','));
  const rate = svg('svg', { id: 'trend-pass-rate', width: w, height: h, viewBox: `0 0 ${w} ${h}` },
    svg('text', { x: pad, y: 14 }, 'success rate (0–100 %)'),
    svg('polyline', { class: 'line', points: xy.join(' ') }),
    ...points.map((p, i) => svg('circle', { cx: xy[i].split(',')[0], cy: xy[i].split(',')[1], r: 3 },
      svg('title', {}, `${p.run_id}: ${p.success_rate.toFixed(1)} %`))));
  return el('div', { class: 'trend' }, duration, ' ', rate);
}

async function testPage(suite, test) {
  const h = await api('/v1/tests/history?' + new URLSearchParams({ suite, test }).toString());
  document.title = 'testfleet: ' + test;
  return el('section', { id: 'test' },
    el('h1', {}, 'Test ', test),
    el('p', {}, 'in suite ', suiteLink(suite), ', its last ', h.history.length, ' runs'),
    table(['run', 'submitted', 'verdict', 'time'], h.history.map((o) => el('tr', { class: 'outcome' },
      el('td', {}, runLink(o.run_id)), el('td', {}, when(o.submitted_at_ms)),
      el('td', { class: o.verdict }, o.verdict), el('td', { class: 'num' }, seconds(o.duration_ms))))));
}

window.addEventListener('hashchange', route);
route();
