// The cost curve's Markdown report (bench/cost.mjs): one column per backend and size.

const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d));
const human = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const mib = (b) => (b / 1048576).toFixed(0);

export const LABELS = {
  signin: 'password sign-in flow (flows/s; p50/p99 ms)',
  refresh: 'refresh, seeded token (req/s; p50/p99 ms)',
  users_search_email_sw: 'users search=profile.email sw',
  users_search_lastname_eq: 'users search=profile.lastName eq',
  users_filter_status_after: 'users filter=status eq, after=random id',
  users_q: 'users q= (5 letters)',
  users_last_page: 'users last page (after=)',
  group_users_last_page: '300k-member group: last page',
  logs_window: 'logs since/until (1 day)',
  logs_filter: 'logs 7 days + filter=eventType eq',
  logs_window_desc: 'logs 1 day, DESCENDING',
  logs_target: 'logs 30 days + filter=target.id eq (a user)',
  users_all_pages: 'walk: all users, 200/page',
  users_lastname_eq_pages: 'walk: lastName eq, every page',
  users_q_pages: 'walk: q= (one page: q= has no next link)',
  group_users_pages: 'walk: 300k group, 1000/page',
  logs_pages: 'walk: logs all-time + filter, 1000/page',
};

/// `; CPU 812 µs + 240 µs PG, WAL 3.1 KiB` per request, when measured.
const cpu = (x) => {
  if (x.server_cpu_us === null || x.server_cpu_us === undefined) return '';
  const us = (v) => (v >= 10_000 ? `${f(v / 1000)} ms` : `${f(v, 0)} µs`);
  const pg = x.pg_cpu_us === null || x.pg_cpu_us === undefined ? '' : ` + ${us(x.pg_cpu_us)} PG`;
  const wal = x.wal_bytes === null || x.wal_bytes === undefined ? '' : `, WAL ${f(x.wal_bytes / 1024)} KiB`;
  return `; CPU ${us(x.server_cpu_us)}${pg}${wal}`;
};

export function markdown(report) {
  const runs = report.runs;
  const head = runs.map((r) => `${r.backend === 'postgres' ? 'PostgreSQL' : 'SQLite'} ${human(r.users)} users / ${human(r.events)} events`);
  const lines = [];
  lines.push(`Cost curve, ${report.date}${report.smoke ? ' (SMOKE: figures mean nothing)' : ''}; ${report.duration_s} s per query, walks up to ${report.walk_budget_s} s.`);
  lines.push('Cells: p50 / p99 ms (rates for sign-in and refresh; walks: pages, ✓ = reached the last page); CPU = server CPU per request (+ its PostgreSQL backends\' CPU, and the WAL it wrote).');
  lines.push('');
  lines.push(`| | ${head.join(' | ')} |`);
  lines.push(`|---|${head.map(() => '---').join('|')}|`);
  const keys = Object.keys(LABELS);
  for (const key of keys) {
    const cells = runs.map((r) => {
      const x = r.results?.[key];
      if (!x) return '–';
      const err = x.errors ? ` **${x.errors} errors**` : '';
      if (key === 'signin' || key === 'refresh') return `${f(x.rate, 0)}/s; ${f(x.p50_ms)} / ${f(x.p99_ms)}${cpu(x)}${err}`;
      if ('pages' in x) return `${f(x.p50_ms)} / ${f(x.p99_ms)} (${x.pages} pages${x.reached_end ? ' ✓' : ''})${err}`;
      return `${f(x.p50_ms)} / ${f(x.p99_ms)}${cpu(x)}${err}`;
    });
    lines.push(`| ${LABELS[key]} | ${cells.join(' | ')} |`);
  }
  const row = (label, fn) => lines.push(`| ${label} | ${runs.map((r) => { try { return fn(r); } catch { return '–'; } }).join(' | ')} |`);
  row('startup ms (seeded; with purge due)', (r) => `${f(r.startup_ms?.[0], 0)}; ${f(r.startup_ms?.[1], 0)}`);
  row('startup expiry purge ms (its end, ms after spawn)', (r) => `${f(r.expiry_purge.ms, 0)} (${f(r.expiry_purge.end_ms_from_spawn, 0)}${r.expiry_purge.walked_every_grant ? '; walked every grant' : ''})`);
  row('mixed load p99 ms: no purge → during purge', (r) => `${f(r.purge.baseline.p99_ms)} → ${f(r.purge.during.p99_ms)} (n=${r.purge.during.n}; ${r.purge.p99_increase === null ? '–' : `${r.purge.p99_increase >= 0 ? '+' : ''}${f(100 * r.purge.p99_increase, 0)}%`})`);
  row('purge end, ms after spawn', (r) => f(r.purge.purge_ms_from_spawn, 0));
  row('database size MiB', (r) => mib(r.size.total_bytes));
  row('bytes per user (row, indexes, 3 memberships)', (r) => f(r.size.per_user_bytes, 0));
  row('bytes per refresh token (with its grant)', (r) => f(r.size.per_refresh_token_bytes, 0));
  row('bytes per System Log event', (r) => f(r.size.per_event_bytes, 0));
  row('seed rate users/s; events/s (wall clock)', (r) => `${f(r.seed.rates.users.per_s, 0)}; ${f(r.seed.rates.events?.per_s, 0)}`);
  row('seed users/s; events/s per seeder CPU second', (r) => `${f(r.seed.rates.users.per_cpu_s, 0)}; ${f(r.seed.rates.events?.per_cpu_s, 0)}`);
  row('seed total s', (r) => f(r.seed.seconds, 0));
  for (const r of runs) if (r.error) lines.push('', `**${r.label} failed:** ${r.error.split('\n')[0]}`);
  return `${lines.join('\n')}\n`;
}
