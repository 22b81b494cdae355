// The SPA under test: OpenMetadata's okta-auth-js setup (AuthProvider.util.ts / OktaAuthProvider.tsx),
// with automatic renewal off so the test drives each renewal itself.
(function () {
  var m = location.pathname.match(/^\/v(7|8)\/(default|org)(\/|$)/);
  var cfg = window.__GH_CONFIG;
  if (!m || !cfg) { window.__state = 'error: bad page'; return; }
  var version = m[1], server = m[2];
  var base = location.origin + '/v' + version + '/' + server;
  var Ctor = (window.OktaAuth && window.OktaAuth.OktaAuth) || window.OktaAuth;
  window.__version = version;
  window.authClient = new Ctor({
    clientId: cfg.clientId,
    issuer: server === 'default' ? cfg.ghUrl + '/oauth2/default' : cfg.ghUrl,
    redirectUri: base + '/callback',
    postLogoutRedirectUri: base + '/signed-out',
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    pkce: true,
    tokenManager: { autoRenew: false, storage: 'localStorage', syncStorage: false, storageKey: 'gh-' + version + '-' + server },
    services: { autoRenew: false, autoRemove: false, syncStorage: false },
  });
  if (authClient.isLoginRedirect()) {
    authClient.token.parseFromUrl().then(function (res) {
      authClient.tokenManager.setTokens(res.tokens);
      window.__state = 'signed-in';
    }, function (e) {
      window.__state = 'error: ' + (e && (e.errorCode || e.name)) + ' ' + (e && (e.errorSummary || e.message));
    });
  } else {
    window.__state = 'ready';
  }
})();
