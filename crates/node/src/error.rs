//! Every HTTP status the node answers is chosen here, and every error is the
//! documented JSON body (`accord_api::ErrorBody`).

use accord_api::{ErrorBody, ErrorDetail};
use accord_log::WitnessError;
use accord_regime::inspection::InspectionError;
use accord_registry::InputError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An API error, mapped to a status and a JSON body in one place.
#[derive(Debug)]
pub enum ApiError {
    /// 400: malformed input, naming the field.
    BadRequest {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// 401: no operator token.
    Unauthorized,
    /// 403: a wrong token, or another party's notification.
    Forbidden(String),
    /// 404: nothing here (yet).
    NotFound(String),
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: a replayed notification number or inspection id.
    Conflict(String),
    /// 413: a body over the limit.
    TooLarge(String),
    /// 422: well-formed but impossible under the treaty or the registry.
    Unprocessable {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// 502: a peer's node or a witness this request needed failed.
    BadGateway(String),
    /// 500: logged, never detailed to the client.
    Internal(String),
}

impl ApiError {
    /// The status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A 400 naming `field`.
    pub fn bad(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            message: message.into(),
            field: Some(field.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, field) = match self {
            ApiError::BadRequest { message, field }
            | ApiError::Unprocessable { message, field } => (message, field),
            ApiError::Unauthorized => ("an operator bearer token is required".to_string(), None),
            ApiError::MethodNotAllowed => ("this path does not take that method".to_string(), None),
            ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::TooLarge(m)
            | ApiError::BadGateway(m) => (m, None),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ("internal error".to_string(), None)
            }
        };
        error_response(status, message, field)
    }
}

/// The documented error body at any status.
pub fn error_response(status: StatusCode, message: String, field: Option<String>) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            status: status.as_u16(),
            message,
            field,
        },
    };
    (status, Json(body)).into_response()
}

/// A 500 with its detail logged.
pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// A refused notification: 400 malformed, 409 a replayed number, 422 the
/// treaty or the registry says no.
pub(crate) fn from_input(e: InputError) -> ApiError {
    match e {
        InputError::Json { field, message, .. } => ApiError::BadRequest {
            message,
            field: Some(field),
        },
        InputError::Invalid { field, message, .. } if field == "number" => {
            ApiError::Conflict(message)
        }
        InputError::Invalid { field, message, .. } => ApiError::Unprocessable {
            message,
            field: Some(field),
        },
        InputError::Rejected { finding, .. } => ApiError::Unprocessable {
            message: finding.message,
            field: Some("event".into()),
        },
        other => ApiError::BadRequest {
            message: other.to_string(),
            field: None,
        },
    }
}

/// A refused inspection: 400 a bad field, 409 a replayed id, 422 refused.
pub(crate) fn from_inspection(e: InspectionError) -> ApiError {
    match e {
        InspectionError::Field { field, message } => ApiError::BadRequest {
            message,
            field: Some(field.to_string()),
        },
        InspectionError::Duplicate(id) => {
            ApiError::Conflict(format!("inspection {id} is already recorded"))
        }
        InspectionError::Refused(r) => ApiError::Unprocessable {
            message: r.to_string(),
            field: None,
        },
        other => internal(other),
    }
}

/// The C2SP tlog-witness status of a witness's refusal: 404 an unknown log,
/// 403 a bad signature, 409 a stale old size or two roots for one size, 422
/// a failing consistency proof, 400 a malformed request, 500 its own state.
pub fn witness_status(e: &WitnessError) -> StatusCode {
    match e {
        WitnessError::UnknownLog(_) => StatusCode::NOT_FOUND,
        WitnessError::BadSignature(_) => StatusCode::FORBIDDEN,
        WitnessError::OldSizeMismatch { .. } => StatusCode::CONFLICT,
        WitnessError::Inconsistent { evidence, .. } if evidence.proof.is_none() => {
            StatusCode::CONFLICT
        }
        WitnessError::Inconsistent { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        WitnessError::Malformed(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
