//! Errors of the controllers, classified once; the reconcile core decides from the class
//! how soon to retry.

pub use engine::ErrorClass;

/// Why a reconcile could not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Docker side failed.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// A Kubernetes API call failed.
    #[error("cannot {action}: {}", kube_message(source))]
    Kube {
        action: String,
        #[source]
        source: kube::Error,
    },
    /// The provider config is missing, refused or unusable.
    #[error("{0}")]
    ProviderConfig(String),
    /// A referenced Secret, ConfigMap or key is missing.
    #[error("{0}")]
    Reference(String),
    /// The managed-resource contract forbids going on (management policies, names).
    #[error("{0}")]
    Contract(String),
    /// The provider config's tenancy policy refuses what the spec asks for.
    #[error("{0}")]
    Policy(String),
    /// A Service's compose project is invalid or cannot be carried.
    #[error("{0}")]
    Compose(String),
    /// A referenced resource is not Ready yet; the resource waits for it.
    #[error("{0}")]
    Waiting(String),
}

/// The API server's own words, without the debug dump kube's Display adds.
fn kube_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

impl Error {
    /// The daemon whose absence (unreachable, timed out) this error reports.
    pub fn absent_daemon(&self) -> Option<&str> {
        match self {
            Self::Engine(
                engine::Error::Unreachable { daemon, .. } | engine::Error::Timeout { daemon, .. },
            ) => Some(daemon),
            _ => None,
        }
    }

    /// A write lost a race with another writer (HTTP 409): retry at once, quietly.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Kube { source: kube::Error::Api(s), .. } if s.code == 409)
    }

    pub fn kube(action: impl Into<String>, source: kube::Error) -> Self {
        Self::Kube {
            action: action.into(),
            source,
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Engine(e) => e.class(),
            // An object the API server refuses as invalid (422) is refused again until
            // its content changes: a Service's child made from a bad compose field.
            Self::Kube {
                source: kube::Error::Api(s),
                ..
            } if s.is_invalid() => ErrorClass::User,
            // Conflicts and server hiccups pass; retrying soon is the right thing to do.
            Self::Kube { .. } | Self::Waiting(_) => ErrorClass::Transient,
            Self::ProviderConfig(_)
            | Self::Reference(_)
            | Self::Contract(_)
            | Self::Policy(_)
            | Self::Compose(_) => ErrorClass::User,
        }
    }

    /// A bounded CamelCase reason for Events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Engine(e) => e.reason(),
            Self::Kube { .. } => "KubernetesApiError",
            Self::ProviderConfig(_) => "ProviderConfigUnusable",
            Self::Reference(_) => "ReferenceNotFound",
            Self::Contract(_) => "CannotProceed",
            Self::Waiting(_) => "Waiting",
            Self::Policy(_) => "PolicyDenied",
            Self::Compose(_) => "InvalidCompose",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16, reason: &str) -> Error {
        let status = kube::core::Status::failure("refused", reason).with_code(code);
        Error::kube("apply Container c", kube::Error::Api(Box::new(status)))
    }

    #[test]
    fn an_object_the_api_server_finds_invalid_waits_for_the_user() {
        assert_eq!(api_error(422, "Invalid").class(), ErrorClass::User);
        assert_eq!(
            api_error(500, "InternalError").class(),
            ErrorClass::Transient
        );
        assert_eq!(api_error(409, "Conflict").class(), ErrorClass::Transient);
    }
}
