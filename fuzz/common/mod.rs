#![allow(dead_code)] // each target uses its own part of it
//! An in-memory Gatehouse (SQLite `:memory:`) shared by the targets that run the authorize
//! pipeline: one provider, one web client registered for `https://app.example.com/cb`.

use std::sync::{Arc, OnceLock};

use gatehouse_core::Provider;
use gatehouse_core::crypto::SecretBox;
use gatehouse_core::domain::{ApplicationType, TokenEndpointAuthMethod};
use gatehouse_core::provider::ServerContext;
use gatehouse_core::services::bootstrap::bootstrap;
use gatehouse_core::services::directory::{
    NewOidcApp, assign_group_to_app, create_oidc_app, find_group_by_id_or_name,
};

pub const ORIGIN: &str = "https://idp.example.com";
pub const REDIRECT_URI: &str = "https://app.example.com/cb";

pub struct World {
    pub runtime: tokio::runtime::Runtime,
    pub provider: Arc<Provider>,
    pub server: ServerContext,
    pub client_id: String,
}

pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (provider, server, client_id) = runtime.block_on(async {
            let store = gatehouse_store::connect("sqlite::memory:")
                .await
                .expect("store");
            let key = SecretBox::generate_key();
            let secrets = Arc::new(SecretBox::from_base64(&key).expect("key"));
            let provider = Provider::new(store, secrets);
            bootstrap(&provider).await.expect("bootstrap");
            let app = new_app(&provider, vec![REDIRECT_URI.into()])
                .await
                .expect("app");
            let server = provider
                .server_context(ORIGIN, Some("default"))
                .await
                .expect("server");
            (Arc::new(provider), server, app)
        });
        World {
            runtime,
            provider,
            server,
            client_id,
        }
    })
}

/// A confidential web client with these redirect URIs, assigned to Everyone; its client_id.
pub async fn new_app(provider: &Provider, redirect_uris: Vec<String>) -> Option<String> {
    let created = create_oidc_app(
        provider,
        NewOidcApp {
            label: "Fuzz".into(),
            application_type: ApplicationType::Web,
            redirect_uris,
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into()],
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            initiate_login_uri: None,
            login_mode: None,
        },
    )
    .await
    .ok()?;
    let everyone = find_group_by_id_or_name(provider, "Everyone").await.ok()?;
    assign_group_to_app(provider, &created.app, &everyone)
        .await
        .ok()?;
    Some(created.app.client_id)
}
