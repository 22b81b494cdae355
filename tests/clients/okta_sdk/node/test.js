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

  await apps(client);

  // ---- a bad token
  const bad = new okta.Client({ orgUrl: URL_, token: '00' + 'x'.repeat(40) });
  await expectError('bad token -> E0000011', bad.userApi.getUser({ userId: 'me' }), 'E0000011', 401);
}

// An OIDC app body as Okta's docs and SDK users write it (the SDK types it as OpenIdConnectApplication).
function oidcApp(label, applicationType, authMethod, grantTypes, redirectUris = undefined, extra = {}) {
  const oauthClient = { application_type: applicationType, grant_types: grantTypes, ...extra };
  if (redirectUris) oauthClient.redirect_uris = redirectUris;
  return {
    name: 'oidc_client',
    label,
    signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: authMethod } },
    settings: { oauthClient },
  };
}

// A client_credentials token request on the default server, authenticated with client_secret_post.
async function clientCredentials(clientId, secret, scope) {
  const res = await fetch(`${URL_}/oauth2/default/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, client_id: clientId, client_secret: secret }),
  });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

// Rotation without downtime, as Okta's client secret rotation guide does it with this SDK.
async function rotateSecrets(client, svc) {
  const secretsApi = client.applicationSSOPublicKeysApi;
  const authz = client.authorizationServerApi;
  const scope = await authz.createOAuth2Scope({ authServerId: 'default', oAuth2Scope: { name: `node${RUN}:ingest`, consent: 'IMPLICIT' } });
  await client.applicationApi.activateApplication({ appId: svc.id });
  const oldSecret = svc.credentials.oauthClient.client_secret;
  const clientId = svc.credentials.oauthClient.client_id;
  let t = await clientCredentials(clientId, oldSecret, scope.name);
  check('token with the first secret', t.status === 200 && !!t.body.access_token, t);

  const [first] = await collect(await secretsApi.listOAuth2ClientSecrets({ appId: svc.id }));
  const second = await secretsApi.createOAuth2ClientSecret({ appId: svc.id, oAuth2ClientSecretRequestBody: {} });
  check('createOAuth2ClientSecret -> a second ACTIVE secret', second instanceof okta.OAuth2ClientSecret
    && second.status === 'ACTIVE' && typeof second.client_secret === 'string' && second.id !== first.id, second);
  t = await clientCredentials(clientId, second.client_secret, scope.name);
  check('  ... token with the new secret', t.status === 200 && !!t.body.access_token, t);
  t = await clientCredentials(clientId, oldSecret, scope.name);
  check('  ... the old one still works', t.status === 200, t);
  const got = await secretsApi.getOAuth2ClientSecret({ appId: svc.id, secretId: second.id });
  check('getOAuth2ClientSecret, no value', got.id === second.id && !got.client_secret && got.secret_hash === second.secret_hash, got);
  await expectError('a third secret -> E0000001', secretsApi.createOAuth2ClientSecret({ appId: svc.id, oAuth2ClientSecretRequestBody: {} }), 'E0000001', 400);
  await expectError('delete an ACTIVE secret -> E0000001', secretsApi.deleteOAuth2ClientSecret({ appId: svc.id, secretId: first.id }), 'E0000001', 400);

  const off = await secretsApi.deactivateOAuth2ClientSecret({ appId: svc.id, secretId: first.id });
  check('deactivateOAuth2ClientSecret -> INACTIVE', off.status === 'INACTIVE', off);
  t = await clientCredentials(clientId, oldSecret, scope.name);
  check('  ... the old secret is refused', t.status === 401 && t.body.error === 'invalid_client', t);
  t = await clientCredentials(clientId, second.client_secret, scope.name);
  check('  ... the new one works', t.status === 200, t);
  await expectError('deactivate the last active secret -> E0000001', secretsApi.deactivateOAuth2ClientSecret({ appId: svc.id, secretId: second.id }), 'E0000001', 400);
  const on = await secretsApi.activateOAuth2ClientSecret({ appId: svc.id, secretId: first.id });
  check('activateOAuth2ClientSecret -> ACTIVE', on.status === 'ACTIVE');
  t = await clientCredentials(clientId, oldSecret, scope.name);
  check('  ... the old secret works again', t.status === 200, t);
  await secretsApi.deactivateOAuth2ClientSecret({ appId: svc.id, secretId: first.id });
  await secretsApi.deleteOAuth2ClientSecret({ appId: svc.id, secretId: first.id });
  const left = await collect(await secretsApi.listOAuth2ClientSecrets({ appId: svc.id }));
  check('deleteOAuth2ClientSecret -> one left', left.length === 1 && left[0].id === second.id, left);
  await expectError('  ... then 404', secretsApi.getOAuth2ClientSecret({ appId: svc.id, secretId: first.id }), 'E0000007', 404);
  t = await clientCredentials(clientId, oldSecret, scope.name);
  check('  ... the deleted secret is refused', t.status === 401, t);
  await authz.deleteOAuth2Scope({ authServerId: 'default', scopeId: scope.id });
}

async function apps(client) {
  const appsApi = client.applicationApi;
  const secretsApi = client.applicationSSOPublicKeysApi;
  const base = `https://netbox-${RUN}.example.com/oauth`;

  // ---- the seeds' three kinds of app
  const web = await appsApi.createApplication({
    application: oidcApp(`node-${RUN}-NetBox`, 'web', 'client_secret_basic', ['authorization_code', 'refresh_token'],
      [`${base}/complete/okta-openidconnect/`],
      { response_types: ['code'], post_logout_redirect_uris: [`${base}/disconnect/okta-openidconnect/`],
        initiate_login_uri: `${base}/login/okta-openidconnect/`, idp_initiated_login: { mode: 'SPEC', default_scope: ['openid'] } }),
  });
  check('create web app -> OpenIdConnectApplication', web instanceof okta.OpenIdConnectApplication, web.constructor.name);
  check('  ... ACTIVE, created is a date', web.status === 'ACTIVE' && web.created instanceof Date && !isNaN(web.created));
  const oc = web.credentials.oauthClient;
  check('  ... client_id = app id, secret returned', oc.client_id === web.id && typeof oc.client_secret === 'string' && oc.client_secret.length >= 14);
  check('  ... settings echoed', web.settings.oauthClient.redirect_uris[0] === `${base}/complete/okta-openidconnect/`
    && web.settings.oauthClient.idp_initiated_login.mode === 'SPEC'
    && web.settings.oauthClient.idp_initiated_login.default_scope.join() === 'openid', web.settings.oauthClient);
  check('  ... _links', web._links.self.href.endsWith(`/api/v1/apps/${web.id}`) && web._links.groups.href.endsWith('/groups')
    && web._links.deactivate.href.endsWith('/lifecycle/deactivate'));

  const spa = await appsApi.createApplication({
    application: oidcApp(`node-${RUN}-Collate`, 'browser', 'none', ['authorization_code', 'refresh_token'],
      [`https://collate-${RUN}.example.com/callback`], { response_types: ['code'] }),
  });
  check('create SPA -> public, PKCE, no secret', spa.credentials.oauthClient.token_endpoint_auth_method === 'none'
    && spa.credentials.oauthClient.pkce_required === true && !spa.credentials.oauthClient.client_secret);
  const svc = await appsApi.createApplication({
    application: oidcApp(`node-${RUN}-ingestion`, 'service', 'client_secret_post', ['client_credentials']),
    activate: false,
  });
  check('create service app, activate=false -> INACTIVE', svc.status === 'INACTIVE'
    && svc.settings.oauthClient.grant_types.join() === 'client_credentials' && !!svc.credentials.oauthClient.client_secret);

  // ---- validation
  let e = await expectError('SPA with client_secret_basic -> E0000001', appsApi.createApplication({
    application: oidcApp(`node-${RUN}-bad`, 'browser', 'client_secret_basic', ['authorization_code'], ['https://x.example/cb']),
  }), 'E0000001', 400);
  check('  ... cause names token_endpoint_auth_method', !!e && (e.errorCauses || []).some((c) => c.errorSummary.includes('token_endpoint_auth_method')));
  e = await expectError('data: redirect URI -> E0000001', appsApi.createApplication({
    application: oidcApp(`node-${RUN}-bad`, 'web', 'client_secret_basic', ['authorization_code'], ['data:text/html,hi']),
  }), 'E0000001', 400);
  check('  ... cause names redirect_uris', !!e && (e.errorCauses || []).some((c) => c.errorSummary.includes('redirect_uris')));
  await expectError('implicit response type without the implicit grant -> E0000001', appsApi.createApplication({
    application: oidcApp(`node-${RUN}-bad`, 'web', 'client_secret_basic', ['authorization_code'], ['https://x.example/cb'], { response_types: ['code', 'token'] }),
  }), 'E0000001', 400);
  check('  ... nothing created', (await collect(await appsApi.listApplications({ q: `node-${RUN}-bad` }))).length === 0);

  // ---- get and list
  const got = await appsApi.getApplication({ appId: web.id });
  check('get app', got instanceof okta.OpenIdConnectApplication && got.label === web.label && !got.credentials.oauthClient.client_secret);
  let list = await collect(await appsApi.listApplications({ q: `node-${RUN}-` }));
  check('list apps with q', list.map((a) => a.id).sort().join() === [web.id, spa.id, svc.id].sort().join(), list.map((a) => a.label));
  list = await collect(await appsApi.listApplications({ q: `node-${RUN}-`, limit: 1 }));
  check('  ... limit 1 follows Link next to all three', list.length === 3 && new Set(list.map((a) => a.id)).size === 3, list.length);
  list = await collect(await appsApi.listApplications({ q: `node-${RUN}-`, filter: 'status eq "INACTIVE"' }));
  check('list apps filter status eq INACTIVE', list.length === 1 && list[0].id === svc.id, list.map((a) => a.label));
  await expectError('unknown app -> E0000007', appsApi.getApplication({ appId: '0oanothere0000000000' }), 'E0000007', 404);

  // ---- replace: modify the fetched app and PUT it back (what SDK users do)
  got.label = `node-${RUN}-NetBox2`;
  got.settings.oauthClient.redirect_uris.push(`${base}/alt/`);
  const rep = await appsApi.replaceApplication({ appId: web.id, application: got });
  check('replace app', rep.label === `node-${RUN}-NetBox2` && rep.settings.oauthClient.redirect_uris.length === 2 && rep.status === 'ACTIVE');
  check('  ... kept the secret (none returned)', !rep.credentials.oauthClient.client_secret);

  // ---- group assignments
  const grp = await client.groupApi.createGroup({ group: { profile: { name: `node-${RUN}-netbox-users` } } });
  const everyone = (await collect(await client.groupApi.listGroups({ q: 'Everyone' }))).find((g) => g.type === 'BUILT_IN');
  let a = await appsApi.assignGroupToApplication({ appId: web.id, groupId: everyone.id, applicationGroupAssignment: {} });
  check('assign Everyone (body {})', a instanceof okta.ApplicationGroupAssignment && a.id === everyone.id && a.priority === 0, a);
  a = await appsApi.assignGroupToApplication({ appId: web.id, groupId: grp.id, applicationGroupAssignment: { priority: 2 } });
  check('assign a group with priority 2', a.id === grp.id && a.priority === 2);
  let assigned = await collect(await appsApi.listApplicationGroupAssignments({ appId: web.id }));
  check('list group assignments', assigned.map((x) => x.id).join() === [everyone.id, grp.id].join(), assigned.map((x) => x.id));
  check('  ... get one', (await appsApi.getApplicationGroupAssignment({ appId: web.id, groupId: grp.id })).priority === 2);
  await appsApi.unassignApplicationFromGroup({ appId: web.id, groupId: grp.id });
  assigned = await collect(await appsApi.listApplicationGroupAssignments({ appId: web.id }));
  check('unassign a group', assigned.length === 1 && assigned[0].id === everyone.id);

  // ---- user assignments
  const person = await client.userApi.createUser({ body: newUser('appuser', 'App', 'correct horse 2'), activate: true });
  const au = await appsApi.assignUserToApplication({ appId: spa.id, appUser: { id: person.id, scope: 'USER', credentials: { userName: person.profile.login } } });
  check('assign a user', au instanceof okta.AppUser && au.id === person.id && au.scope === 'USER' && au.credentials.userName === login('appuser'));
  const appUsers = await collect(await appsApi.listApplicationUsers({ appId: spa.id }));
  check('list app users', appUsers.length === 1 && appUsers[0].id === person.id);
  check('get app user', (await appsApi.getApplicationUser({ appId: spa.id, userId: person.id })).scope === 'USER');
  check('  ... via Everyone: scope GROUP', (await appsApi.getApplicationUser({ appId: web.id, userId: person.id })).scope === 'GROUP');
  const webUsers = await collect(await appsApi.listApplicationUsers({ appId: web.id }));
  check('list users of an app assigned to Everyone: pages past 200, scope GROUP',
    webUsers.length > 200 && new Set(webUsers.map((u) => u.id)).size === webUsers.length
    && webUsers.some((u) => u.id === person.id && u.scope === 'GROUP'), webUsers.length);
  const links = await collect(await client.userApi.listAppLinks({ userId: person.id }));
  check("list the user's appLinks", [web.id, spa.id].every((id) => links.some((l) => l.appInstanceId === id)), links.map((l) => l.label));
  await appsApi.unassignUserFromApplication({ appId: spa.id, userId: person.id });
  await expectError('unassign user, then 404', appsApi.getApplicationUser({ appId: spa.id, userId: person.id }), 'E0000007', 404);

  // ---- client secrets: a second one beside the first, both working until one is deactivated
  const sec = await secretsApi.createOAuth2ClientSecret({ appId: web.id, oAuth2ClientSecretRequestBody: {} });
  check('new client secret, shown once', sec.status === 'ACTIVE' && sec.client_secret && sec.client_secret !== oc.client_secret);
  const secrets = await collect(await secretsApi.listOAuth2ClientSecrets({ appId: web.id }));
  check('  ... listed with the first, without values', secrets.length === 2 && secrets.some((x) => x.id === sec.id)
    && secrets.every((x) => !x.client_secret && x.secret_hash && x.status === 'ACTIVE'), secrets);
  await rotateSecrets(client, svc);

  // ---- lifecycle and delete
  await expectError('delete an ACTIVE app -> E0000056', appsApi.deleteApplication({ appId: spa.id }), 'E0000056', 403);
  await appsApi.deactivateApplication({ appId: spa.id });
  check('deactivate', (await appsApi.getApplication({ appId: spa.id })).status === 'INACTIVE');
  await appsApi.deleteApplication({ appId: spa.id });
  await expectError('delete, then 404', appsApi.getApplication({ appId: spa.id }), 'E0000007', 404);
  await appsApi.activateApplication({ appId: svc.id });
  check('activate', (await appsApi.getApplication({ appId: svc.id })).status === 'ACTIVE');
  for (const id of [web.id, svc.id]) {
    await appsApi.deactivateApplication({ appId: id });
    await appsApi.deleteApplication({ appId: id });
  }
  await client.groupApi.deleteGroup({ groupId: grp.id });
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
