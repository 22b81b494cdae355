// The browser's side of WebAuthn: enrolling a passkey on the dashboard
// (form#passkey-enroll) and answering the factor challenge with one
// ([data-passkey-signin]). The server's JSON options carry binary values as base64url
// strings; navigator.credentials wants ArrayBuffers, and the answer goes back as base64url.
// Every call sends the page's CSRF token in X-Csrf-Token, as JSON.
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      var copy = Object.assign({}, c);
      copy.id = toBytes(c.id);
      return copy;
    });
  }

  function call(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body),
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (!res.ok) {
          throw new Error(json.errorSummary || ("The server answered " + res.status + "."));
        }
        return json;
      });
    });
  }

  function creationOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = toBytes(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: toBytes(pk.user.id) });
    pk.excludeCredentials = withIds(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = toBytes(pk.challenge);
    pk.allowCredentials = withIds(pk.allowCredentials);
    return { publicKey: pk };
  }

  function extensions(cred) {
    try { return cred.getClientExtensionResults() || {}; } catch (e) { return {}; }
  }

  function attestationJson(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toB64url(r.attestationObject),
        clientDataJSON: toB64url(r.clientDataJSON),
      },
      extensions: extensions(cred),
    };
    if (typeof r.getTransports === "function") { out.response.transports = r.getTransports(); }
    return out;
  }

  function assertionJson(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null,
      },
      extensions: extensions(cred),
    };
  }

  function showError(el, err) {
    if (!el) { return; }
    var msg = err && err.name === "NotAllowedError"
      ? "The passkey request was cancelled or timed out."
      : (err && err.message) || "That did not work.";
    el.textContent = msg;
    el.hidden = false;
  }

  function supported() {
    return window.PublicKeyCredential && navigator.credentials && window.isSecureContext;
  }

  // Enrollment on the dashboard.
  var enroll = document.getElementById("passkey-enroll");
  if (enroll) {
    var error = document.getElementById("passkey-error");
    enroll.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (error) { error.hidden = true; }
      if (!supported()) {
        showError(error, new Error("This browser cannot use passkeys here."));
        return;
      }
      var csrf = enroll.getAttribute("data-csrf");
      var name = enroll.querySelector("[name=name]").value;
      var password = enroll.querySelector("[name=password]").value;
      var button = enroll.querySelector("button[type=submit]");
      button.disabled = true;
      call(enroll.getAttribute("data-begin"), csrf, { password: password })
        .then(function (options) { return navigator.credentials.create(creationOptions(options)); })
        .then(function (cred) {
          return call(enroll.getAttribute("data-finish"), csrf, { name: name, credential: attestationJson(cred) });
        })
        .then(function () {
          window.location.assign(enroll.getAttribute("data-done") + "?added=1");
        })
        .catch(function (err) {
          button.disabled = false;
          showError(error, err);
        });
    });
  }

  // The factor challenge: a button carrying where to call and its CSRF token, in a form whose
  // hidden fields (the pending sign-in) go along; once the passkey is verified the form is
  // submitted to continue the sign-in.
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-passkey-signin]");
    if (!button) { return; }
    ev.preventDefault();
    var error = document.getElementById(button.getAttribute("data-error") || "passkey-error");
    if (error) { error.hidden = true; }
    if (!supported()) {
      showError(error, new Error("This browser cannot use passkeys here."));
      return;
    }
    var csrf = button.getAttribute("data-csrf");
    var fields = {};
    var form = button.closest("form");
    if (form) {
      Array.prototype.forEach.call(form.querySelectorAll("input[type=hidden]"), function (input) {
        fields[input.name] = input.value;
      });
    }
    button.disabled = true;
    call(button.getAttribute("data-begin"), csrf, fields)
      .then(function (options) { return navigator.credentials.get(requestOptions(options)); })
      .then(function (cred) {
        return call(button.getAttribute("data-finish"), csrf, Object.assign({}, fields, { credential: assertionJson(cred) }));
      })
      .then(function (done) {
        // Verified: the form (its action "continue") finishes the sign-in like any factor.
        if (done.verified && form) { form.submit(); }
      })
      .catch(function (err) {
        button.disabled = false;
        showError(error, err);
      });
  });
})();
