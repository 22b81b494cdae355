//! Shared by the store's integration tests that are not the contract suite.

/// One `#[tokio::test]` per backend for each named test, each through the test file's own
/// `run(backend, test)`.
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::run(gatehouse_store::test_support::Backend::Sqlite, super::$name).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::run(gatehouse_store::test_support::Backend::Postgres, super::$name).await
                }
            )+
        }
    };
}
