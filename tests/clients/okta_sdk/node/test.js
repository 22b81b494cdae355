// Drives gatehouse's /api/v1 with Okta's own Node SDK (@okta/okta-sdk-nodejs 8.x), unmodified.
// Environment: GATEHOUSE_URL (e.g. http://127.0.0.1:8080), GATEHOUSE_TOKEN (an API token).
// Prints one line per check and closes with "N passed, N failed"; exits non-zero on any failure.
'use strict';

const crypto = require('node:crypto');
const okta = require('@okta/okta-sdk-nodejs');

const URL_ = process.env.GATEHOUSE_URL;
const TOKEN = process.env.GATEHOUSE_TOKEN;
const RUN = crypto.randomBytes(4).toString('hex'); // keeps this run's records apart
const BULK = 205; // more than one default page (200)

let passed = 0;
let failed = 0;

function check(name, condition, detail = '') {
  if (condition) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name} ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  }
}

async function expectError(name, promise, code, status) {
  try {
    await promise;
    check(name, false, 'no error');
  } catch (e) {
    check(name, e.errorCode === code && (!status || e.status === status), `${e.status} ${e.errorCode} ${e.message}`);
    return e;
  }
  return null;
}

const login = (n) => `node-${RUN}-${n}@example.com`;

function newUser(n, firstName = 'Node', password = undefined) {
  const body = { profile: { firstName, lastName: `User${n}`, email: login(n), login: login(n) } };
  if (password) body.credentials = { password: { value: password } };
  return body;
}

async function collect(collection) {
  const out = [];
  for await (const item of collection) out.push(item);
  return out;
}

async function main() {
  const client = new okta.Client({ orgUrl: URL_, token: TOKEN });
  const users = client.userApi;
  const groups = client.groupApi;

  // ---- users: create with and without credentials
  const active = await users.createUser({ body: newUser('a', 'Alice', 'correct horse 1'), activate: true });
  check('create user with password, activate=true -> ACTIVE', active.status === 'ACTIVE', active.status);
  check('  ... provider OKTA', active.credentials.provider.type === 'OKTA');
  check('  ... created is a date', active.created instanceof Date && !isNaN(active.created), active.created);
  const provisioned = await users.createUser({ body: newUser('p', 'Pat'), activate: true });
  check('create user without credentials -> PROVISIONED', provisioned.status === 'PROVISIONED', provisioned.status);
  const staged = await users.createUser({ body: newUser('s', 'Sam'), activate: false });
  check('create user, activate=false -> STAGED', staged.status === 'STAGED', staged.status);

  // ---- get by id, login, me
  check('get user by id', (await users.getUser({ userId: active.id })).profile.login === login('a'));
  check('get user by login', (await users.getUser({ userId: login('a') })).id === active.id);
  const me = await users.getUser({ userId: 'me' });
  check("get user 'me'", typeof me.id === 'string' && me.id !== active.id);

  // ---- errors
  await expectError('missing user -> E0000007', users.getUser({ userId: '00unothere0000000000' }), 'E0000007', 404);
  const dup = await expectError('duplicate login -> E0000001', users.createUser({ body: newUser('a'), activate: true }), 'E0000001', 400);
  check('  ... cause names login', !!dup && (dup.errorCauses || []).some((c) => c.errorSummary.includes('login')));

  // ---- bulk, then `for await` paging across more than 200 users (Node follows the absolute next URL)
  const started = Date.now();
  for (let start = 0; start < BULK; start += 25) {
    const batch = [];
    for (let n = start; n < Math.min(start + 25, BULK); n++) {
      batch.push(users.createUser({ body: newUser(`bulk${String(n).padStart(3, '0')}`, 'Bulk'), activate: false }));
    }
    await Promise.all(batch);
  }
  check(`create ${BULK} users in parallel batches`, true);
  console.log(`     (${((Date.now() - started) / 1000).toFixed(1)}s)`);

  const all = await collect(await users.listUsers({}));
  const ids = all.map((u) => u.id);
  check('for await over listUsers sees more than 200 users', ids.length >= BULK + 3, ids.length);
  check('  ... no duplicates', new Set(ids).size === ids.length);
  check('  ... includes the created users', [active.id, provisioned.id, staged.id].every((id) => ids.includes(id)));
  const bulk = await collect(await users.listUsers({ search: `profile.login sw "node-${RUN}-bulk"`, limit: 40 }));
  check(`search sw with limit 40 pages to exactly ${BULK}`, bulk.length === BULK && new Set(bulk.map((u) => u.id)).size === BULK, bulk.length);

  // ---- search / filter / q
  let found = await collect(await users.listUsers({ filter: `profile.login eq "${login('a')}"` }));
  check('filter profile.login eq', found.length === 1 && found[0].id === active.id, found.map((u) => u.id));
  found = await collect(await users.listUsers({ search: `status eq "ACTIVE" and profile.login sw "node-${RUN}-"` }));
  check('search status eq ACTIVE and login sw', found.length === 1 && found[0].id === active.id, found.map((u) => u.id));
  found = await collect(await users.listUsers({ filter: `id eq "${staged.id}" or id eq "${provisioned.id}"` }));
  check('filter id eq ... or id eq ...', found.length === 2);
  found = await collect(await users.listUsers({ q: `node-${RUN}-p` }));
  check('q (starts with)', found.length === 1 && found[0].id === provisioned.id, found.map((u) => u.id));
  await expectError('bad filter -> E0000001', collect(await users.listUsers({ filter: 'status eq' })), 'E0000001', 400);

  // ---- update (partial) and replace (full)
  const upd = await users.updateUser({ userId: active.id, user: { profile: { firstName: 'Alicia' } } });
  check('update user (partial)', upd.profile.firstName === 'Alicia' && upd.profile.lastName === 'Usera');
  const rep = await users.replaceUser({
    userId: active.id,
    user: { profile: { firstName: 'Alice', lastName: 'Replaced', email: login('a'), login: login('a') } },
  });
  check('replace user (full)', rep.profile.lastName === 'Replaced');

  // ---- lifecycle
  await users.suspendUser({ userId: active.id });
  check('suspend', (await users.getUser({ userId: active.id })).status === 'SUSPENDED');
  await users.unsuspendUser({ userId: active.id });
  check('unsuspend', (await users.getUser({ userId: active.id })).status === 'ACTIVE');
  await users.activateUser({ userId: staged.id, sendEmail: false });
  check('activate staged user', (await users.getUser({ userId: staged.id })).status === 'PROVISIONED');

  // ---- groups
  const grp = await groups.createGroup({ group: { profile: { name: `node-${RUN}-team`, description: 'Node SDK' } } });
  check('create group', grp.type === 'OKTA_GROUP' && grp.profile.name === `node-${RUN}-team`, grp);
  check('get group', (await groups.getGroup({ groupId: grp.id })).profile.name === `node-${RUN}-team`);
  let glist = await collect(await groups.listGroups({ q: `node-${RUN}-` }));
  check('list groups with q', glist.length === 1 && glist[0].id === grp.id, glist.map((g) => g.id));
  glist = await collect(await groups.listGroups({}));
  const everyone = glist.find((g) => g.type === 'BUILT_IN');
  check('list groups includes Everyone', !!everyone && everyone.profile.name === 'Everyone');
  const renamed = await groups.replaceGroup({ groupId: grp.id, group: { profile: { name: `node-${RUN}-team2`, description: 'renamed' } } });
  check('replace group', renamed.profile.name === `node-${RUN}-team2`);

  await groups.assignUserToGroup({ groupId: grp.id, userId: active.id });
  await groups.assignUserToGroup({ groupId: grp.id, userId: provisioned.id });
  let members = await collect(await groups.listGroupUsers({ groupId: grp.id }));
  check('add members and list them', members.map((m) => m.id).sort().join() === [active.id, provisioned.id].sort().join());
  const ugroups = await collect(await users.listUserGroups({ userId: active.id }));
  const names = ugroups.map((g) => g.profile.name).sort();
  check("list a user's groups", names.join() === ['Everyone', `node-${RUN}-team2`].sort().join(), names);
  await groups.unassignUserFromGroup({ groupId: grp.id, userId: provisioned.id });
  members = await collect(await groups.listGroupUsers({ groupId: grp.id }));
  check('remove member', members.length === 1 && members[0].id === active.id);
  if (everyone) {
    await expectError('deleting Everyone is refused', groups.deleteGroup({ groupId: everyone.id }), 'E0000006', 403);
  }
  await groups.deleteGroup({ groupId: grp.id });
  await expectError('delete group, then 404', groups.getGroup({ groupId: grp.id }), 'E0000007', 404);

  // ---- deactivate and delete
  await users.deactivateUser({ userId: active.id });
  check('deactivate', (await users.getUser({ userId: active.id })).status === 'DEPROVISIONED');
  await users.deleteUser({ userId: active.id });
  await expectError('delete deactivated user, then 404', users.getUser({ userId: active.id }), 'E0000007', 404);
  await users.deleteUser({ userId: provisioned.id });
  check('first delete only deactivates', (await users.getUser({ userId: provisioned.id })).status === 'DEPROVISIONED');
  await users.deleteUser({ userId: provisioned.id });
  await expectError('second delete deletes', users.getUser({ userId: provisioned.id }), 'E0000007', 404);

  // ---- a bad token
  const bad = new okta.Client({ orgUrl: URL_, token: '00' + 'x'.repeat(40) });
  await expectError('bad token -> E0000011', bad.userApi.getUser({ userId: 'me' }), 'E0000011', 401);
}

main()
  .catch((e) => {
    failed += 1;
    console.log(`FAIL unexpected error: ${e && e.stack ? e.stack : e}`);
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  });
