//! How a node speaks to the network: TLS with its identity (mutual with
//! the peers and witnesses whose keys it pins), or plain HTTP on loopback
//! only when asked for explicitly. The transport itself (the bounded
//! server and client) is `accord-net`.

use accord_net::{
    Client, ClientError, ClientLimits, Endpoint, Identity, Limits, Pin, PinSet, Security, Transport,
};

/// A node's network settings.
#[derive(Debug, Clone)]
pub struct Net {
    identity: Option<Identity>,
    insecure_plaintext: bool,
    limits: Limits,
    client_limits: ClientLimits,
}

/// Why the network could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A peer or witness without a pin, on a node that speaks TLS.
    #[error("{url}: a pinned TLS key (`tls_pin`) is required; plain HTTP only with insecure_plaintext = true on loopback")]
    NoPin {
        /// Its URL.
        url: String,
    },
    /// A node without a TLS identity that was not told to speak plain HTTP.
    #[error("no TLS identity (run `accord tls init`); plain HTTP only with insecure_plaintext = true on loopback")]
    NoIdentity,
    /// The client or an endpoint could not be made.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] accord_net::tls::TlsConfigError),
}

impl Net {
    /// TLS with `identity`: the node's certificate, shown to its clients and
    /// to the nodes it reads and pushes to.
    pub fn tls(identity: Identity) -> Net {
        Net {
            identity: Some(identity),
            insecure_plaintext: false,
            limits: Limits {
                max_body_bytes: crate::MAX_BODY as u64,
                ..Limits::default()
            },
            client_limits: ClientLimits::default(),
        }
    }

    /// Plain HTTP, on loopback only (tests, exercises): nothing crossing
    /// the link is encrypted or authenticated. The server logs it loudly.
    pub fn insecure_plaintext() -> Net {
        Net {
            identity: None,
            insecure_plaintext: true,
            limits: Limits {
                max_body_bytes: crate::MAX_BODY as u64,
                ..Limits::default()
            },
            client_limits: ClientLimits::default(),
        }
    }

    /// With other server limits.
    pub fn with_limits(mut self, limits: Limits) -> Net {
        self.limits = limits;
        self
    }

    /// The server limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The node's identity's pin, when it speaks TLS.
    pub fn pin(&self) -> Option<Pin> {
        self.identity.as_ref().map(Identity::pin)
    }

    /// The client the node reads peers and pushes to them with (it shows
    /// the node's certificate, which the peers pin).
    pub(crate) fn client(&self) -> Result<Client, NetError> {
        Ok(Client::new(
            self.client_limits.clone(),
            self.identity.clone(),
        )?)
    }

    /// The client for neutral witnesses, which pin no party's key: it shows
    /// no certificate (`add-checkpoint` is authenticated by the log's
    /// signature on the checkpoint).
    pub(crate) fn anonymous_client(&self) -> Result<Client, NetError> {
        Ok(Client::new(self.client_limits.clone(), None)?)
    }

    /// How to reach `url`, whose key is `pin`.
    pub fn security(&self, url: &str, pin: Option<Pin>) -> Result<Security, NetError> {
        match pin {
            Some(p) => Ok(Security::Pinned(PinSet::from(p))),
            None if self.insecure_plaintext => Ok(Security::InsecurePlaintext),
            None => Err(NetError::NoPin {
                url: url.to_string(),
            }),
        }
    }

    /// An endpoint of `client` for `url`.
    pub(crate) fn endpoint(
        &self,
        client: &Client,
        url: &str,
        pin: Option<Pin>,
    ) -> Result<Endpoint, NetError> {
        Ok(client.endpoint(url, self.security(url, pin)?)?)
    }

    /// The listener's transport: TLS admitting `client_pins` as peers (and
    /// anyone without a certificate as anonymous), or plain HTTP.
    pub fn transport(&self, client_pins: PinSet) -> Result<Transport, NetError> {
        match &self.identity {
            Some(id) => Ok(Transport::Tls(accord_net::tls::server_config(
                id,
                client_pins,
            )?)),
            None if self.insecure_plaintext => Ok(Transport::InsecurePlaintext),
            None => Err(NetError::NoIdentity),
        }
    }
}
