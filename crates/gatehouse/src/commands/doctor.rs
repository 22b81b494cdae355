//! `gatehouse doctor --client-id X [--rp-url URL] [--redirect-uri URI]`: looks at one app the
//! way a relying party will meet it and explains, in plain words, what would break its sign-ins;
//! then prints the configuration lines for the usual relying parties. See `docs/doctor.md`.

use clap::Args;
use gatehouse_core::Provider;
use gatehouse_core::domain::{App, ConfigItem};
use gatehouse_core::domain::{
    AppStatus, ApplicationType, AuthServerKind, AuthServerObjectKind, OAuthClaim, OAuthScope,
};
use gatehouse_core::services::trusted_origins::allows_cors;

#[derive(Debug, Args, Default, Clone)]
pub struct DoctorArgs {
    /// The app's client id.
    #[arg(long)]
    pub client_id: String,
    /// The relying party's own address (e.g. `https://netbox.example.com`).
    #[arg(long)]
    pub rp_url: Option<String>,
    /// The redirect URI the relying party sends (compared with the registered ones).
    #[arg(long)]
    pub redirect_uri: Option<String>,
    /// The authorization server the relying party uses: `org`, `default` or a custom server id.
    #[arg(long, default_value = "default")]
    pub auth_server: String,
    /// Gatehouse's public URL, as `serve --public-url` has it (else the config file's).
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The scopes the relying party asks for.
    #[arg(long, default_value = "openid profile email groups")]
    pub scopes: String,
}

/// One thing doctor looked at. `problem` findings make the command fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A stable name for the check (`redirect_uri`, `app_inactive`, …).
    pub check: &'static str,
    pub problem: bool,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// The configuration lines for the usual relying parties; empty when the app is unknown.
    pub config: String,
}

impl Report {
    fn problem(&mut self, check: &'static str, text: impl Into<String>) {
        self.findings.push(Finding {
            check,
            problem: true,
            text: text.into(),
        });
    }
    fn ok(&mut self, check: &'static str, text: impl Into<String>) {
        self.findings.push(Finding {
            check,
            problem: false,
            text: text.into(),
        });
    }
    pub fn problems(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.problem)
    }
}

pub(super) async fn run(
    provider: &Provider,
    public_url: Option<&str>,
    args: &DoctorArgs,
) -> anyhow::Result<()> {
    let public_url = args.public_url.as_deref().or(public_url);
    let report = diagnose(provider, public_url, args).await?;
    for f in &report.findings {
        let mark = if f.problem { "PROBLEM" } else { "ok     " };
        println!("{mark} [{}] {}", f.check, f.text);
    }
    if !report.config.is_empty() {
        println!("\n{}", report.config);
    }
    let count = report.problems().count();
    if count > 0 {
        anyhow::bail!("doctor found {count} problem(s)");
    }
    Ok(())
}

/// Runs every check; only a database failure is an error.
pub async fn diagnose(
    provider: &Provider,
    public_url: Option<&str>,
    args: &DoctorArgs,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let Some(app) = provider
        .store
        .find_app_by_client_id(&args.client_id)
        .await?
    else {
        report.problem(
            "app",
            format!(
                "No app has the client id '{}'. Copy it again from the console (Applications → the app → General) or `gatehouse app list`.",
                args.client_id
            ),
        );
        return Ok(report);
    };
    if app.status == AppStatus::Active {
        report.ok(
            "app_inactive",
            format!("The app '{}' is active.", app.label),
        );
    } else {
        report.problem(
            "app_inactive",
            format!(
                "The app '{}' is {}: every sign-in is refused with invalid_client. Activate it in the console or with POST /api/v1/apps/{}/lifecycle/activate.",
                app.label, app.status, app.id
            ),
        );
    }
    if let Some(uri) = args.redirect_uri.as_deref() {
        check_redirect_uri(&mut report, &app, uri);
    }
    check_assignments(provider, &mut report, &app).await?;
    let base = public_url.map_or("http://127.0.0.1:8080", |u| u.trim_end_matches('/'));
    if let Some(rp) = args.rp_url.as_deref() {
        check_public_url(&mut report, public_url, rp);
        check_spa_origin(provider, &mut report, &app, rp).await?;
    }
    let issuer = check_server(provider, &mut report, &app, args, base).await?;
    report.config = config_lines(&app, &issuer, args);
    Ok(report)
}

fn check_redirect_uri(report: &mut Report, app: &App, sent: &str) {
    let registered = &app.settings.redirect_uris;
    if registered.iter().any(|r| r == sent) {
        report.ok(
            "redirect_uri",
            format!("{sent} is a registered redirect URI."),
        );
        return;
    }
    let Some(nearest) = registered.iter().min_by_key(|r| distance(r, sent)) else {
        report.problem(
            "redirect_uri",
            "The app has no sign-in redirect URIs; add the relying party's callback URL.",
        );
        return;
    };
    report.problem(
        "redirect_uri",
        format!(
            "{sent} is not registered (redirect URIs must match exactly). The nearest registered one is {nearest}: {}. Register the exact URI, or fix the relying party's setting.",
            differences(nearest, sent).join("; ")
        ),
    );
}

/// How `sent` differs from `registered`, in words.
fn differences(registered: &str, sent: &str) -> Vec<String> {
    let (Ok(r), Ok(s)) = (url::Url::parse(registered), url::Url::parse(sent)) else {
        return vec!["the sent value is not an absolute URL".into()];
    };
    let mut out = Vec::new();
    if r.scheme() != s.scheme() {
        out.push(format!("{} vs {} (scheme)", s.scheme(), r.scheme()));
    }
    if r.host_str() != s.host_str() {
        out.push(format!(
            "host {} vs {}",
            s.host_str().unwrap_or_default(),
            r.host_str().unwrap_or_default()
        ));
    }
    let both_default = r.port().is_none() && s.port().is_none();
    if r.port_or_known_default() != s.port_or_known_default() && !both_default {
        let p = |u: &url::Url| {
            u.port_or_known_default()
                .map_or("none".into(), |p| p.to_string())
        };
        out.push(format!("port {} vs {}", p(&s), p(&r)));
    } else if r.port() != s.port() && r.scheme() == s.scheme() {
        out.push("one names the default port explicitly".into());
    }
    let (rp, sp) = (r.path(), s.path());
    if rp != sp {
        if rp.trim_end_matches('/') == sp.trim_end_matches('/') {
            let which = if sp.ends_with('/') { "has" } else { "lacks" };
            out.push(format!("the sent URI {which} a trailing slash"));
        } else if rp.eq_ignore_ascii_case(sp) {
            out.push(format!(
                "path case differs ({sp} vs {rp}; paths are case-sensitive)"
            ));
        } else {
            out.push(format!("path {sp} vs {rp}"));
        }
    }
    if r.query() != s.query() {
        out.push("the query strings differ".into());
    }
    if out.is_empty() {
        out.push("they differ only in how they are written (encoding or case)".into());
    }
    out
}

/// Levenshtein distance over chars: small inputs only (redirect URIs).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let v = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            cur.push(v);
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or_default()
}

async fn check_assignments(
    provider: &Provider,
    report: &mut Report,
    app: &App,
) -> anyhow::Result<()> {
    let users = provider.store.list_app_users(&app.id).await?.len();
    let groups = provider.store.list_app_groups(&app.id).await?.len();
    if users == 0 && groups == 0 {
        report.problem(
            "assignments",
            format!("No users or groups are assigned to the app, so every sign-in ends with access_denied (\"User is not assigned to the client application\"). Assign a group (Everyone for all) in the console's Assignments tab or with PUT /api/v1/apps/{}/groups/<group id>.", app.id),
        );
    } else {
        report.ok(
            "assignments",
            format!("{users} user(s) and {groups} group(s) are assigned."),
        );
    }
    Ok(())
}

fn check_public_url(report: &mut Report, public_url: Option<&str>, rp: &str) {
    let rp_host = url::Url::parse(rp)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    let Some(public) = public_url else {
        report.problem(
            "public_url",
            "No public URL is configured (--public-url / GATEHOUSE_PUBLIC_URL), so the issuer follows the Host header of each request: the relying party's back channel and the browser must use the same host name, or the ID token's iss will not match. Set the public URL the browser uses.",
        );
        return;
    };
    let Ok(p) = url::Url::parse(public) else {
        report.problem(
            "public_url",
            format!("The public URL {public} does not parse."),
        );
        return;
    };
    let loopback = |h: &str| h == "localhost" || h.starts_with("127.") || h == "[::1]";
    let public_host = p.host_str().unwrap_or_default();
    if loopback(public_host) && rp_host.as_deref().is_some_and(|h| !loopback(h)) {
        report.problem(
            "public_url",
            format!(
                "The public URL {public} is a loopback address, but the relying party runs on {}: from there {public} is the relying party's own machine. Set the public URL to a name both the browser and the relying party reach.",
                rp_host.unwrap_or_default()
            ),
        );
    } else if p.scheme() == "http" && rp.starts_with("https://") {
        report.problem(
            "public_url",
            format!(
                "The relying party is served over https but Gatehouse's public URL {public} is http: browsers will not send the Secure session cookie and many relying parties refuse an http issuer. Serve Gatehouse over https."
            ),
        );
    } else {
        report.ok("public_url", format!("The public URL is {public}."));
    }
}

async fn check_spa_origin(
    provider: &Provider,
    report: &mut Report,
    app: &App,
    rp: &str,
) -> anyhow::Result<()> {
    if app.settings.application_type != ApplicationType::Browser {
        return Ok(());
    }
    let Some(origin) = url::Url::parse(rp)
        .ok()
        .map(|u| u.origin().ascii_serialization())
    else {
        return Ok(());
    };
    if allows_cors(provider, &origin).await? {
        report.ok(
            "cors",
            format!("{origin} may call Gatehouse from script (CORS)."),
        );
    } else {
        report.problem(
            "cors",
            format!(
                "The single-page app is served from {origin}, which is not a trusted origin with the CORS scope (nor the origin of one of the app's redirect URIs): the browser will block its token and userinfo calls. Add it under Security → API → Trusted Origins with CORS (and Redirect for sign-out)."
            ),
        );
    }
    Ok(())
}

/// Checks the authorization server, its scopes and the groups claim; returns its issuer.
async fn check_server(
    provider: &Provider,
    report: &mut Report,
    app: &App,
    args: &DoctorArgs,
    base: &str,
) -> anyhow::Result<String> {
    let Some(server) = provider.store.find_auth_server(&args.auth_server).await? else {
        report.problem(
            "auth_server",
            format!(
                "There is no authorization server '{}' (see `gatehouse auth-server list`).",
                args.auth_server
            ),
        );
        return Ok(base.to_owned());
    };
    let issuer = match server.kind {
        AuthServerKind::Org => base.to_owned(),
        AuthServerKind::Custom => format!("{base}/oauth2/{}", server.id),
    };
    if server.status != AppStatus::Active {
        report.problem(
            "auth_server",
            format!(
                "The authorization server '{}' is {}.",
                server.id, server.status
            ),
        );
    }
    if server.kind == AuthServerKind::Org {
        if app.settings.groups_claim.is_none() {
            report.problem(
                "claims",
                "On the org server, groups reach the ID token only through the app's groups claim, and the app has none: set one (console: Sign On → OpenID Connect ID Token → Groups claim) if the relying party maps groups.",
            );
        }
        return Ok(issuer);
    }
    let objects = provider.store.list_auth_server_objects(&server.id).await?;
    let scopes: Vec<OAuthScope> = objects
        .iter()
        .filter(|o| o.kind == AuthServerObjectKind::Scope)
        .filter_map(OAuthScope::from_object)
        .collect();
    let claims: Vec<OAuthClaim> = objects
        .iter()
        .filter(|o| o.kind == AuthServerObjectKind::Claim)
        .filter_map(OAuthClaim::from_object)
        .collect();
    let missing: Vec<&str> = args
        .scopes
        .split_whitespace()
        .filter(|s| !scopes.iter().any(|sc| sc.name == *s))
        .collect();
    if missing.is_empty() {
        report.ok(
            "scopes",
            format!("The server '{}' has every scope asked for.", server.id),
        );
    } else {
        report.problem(
            "scopes",
            format!(
                "The server '{}' has no scope {}: the authorize request fails with invalid_scope. Add the scope (Security → API → the server → Scopes) or stop asking for it.",
                server.id,
                missing.join(", ")
            ),
        );
    }
    let wants_groups = args.scopes.split_whitespace().any(|s| s == "groups");
    let has_groups_claim = claims
        .iter()
        .any(|c| c.name == "groups" && c.status == AppStatus::Active)
        || app.settings.groups_claim.is_some();
    if wants_groups && !has_groups_claim {
        report.problem(
            "claims",
            format!(
                "The relying party asks for groups but the server '{}' has no active 'groups' claim and the app no groups claim: tokens carry no groups, so group mapping (NetBox, OpenMetadata roles) gives nobody a group. Add a Groups claim (filter: matches regex .*).",
                server.id
            ),
        );
    }
    Ok(issuer)
}

fn config_lines(app: &App, issuer: &str, args: &DoctorArgs) -> String {
    super::rp_lines::lines(&super::rp_lines::RpConfig {
        client_id: &app.client_id,
        client_secret: None,
        issuer,
        rp_url: args.rp_url.as_deref().unwrap_or("https://rp.example.com"),
        scopes: &args.scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_the_usual_mistakes() {
        let d = |r, s| differences(r, s).join("; ");
        assert!(d("https://a.example/cb", "https://a.example/cb/").contains("trailing slash"));
        assert!(d("https://a.example/cb", "http://a.example/cb").contains("http vs https"));
        assert!(d("https://a.example/cb", "https://b.example/cb").contains("host b.example"));
        assert!(d("https://a.example/cb", "https://a.example:8443/cb").contains("port 8443"));
        assert!(d("https://a.example/Cb", "https://a.example/cb").contains("path case"));
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("abc", "abd"), 1);
        assert_eq!(distance("", "ab"), 2);
    }
}
