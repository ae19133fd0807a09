//! Payload constraints (`minimum`, `maxLength`, `pattern`, ...) checked on
//! decode and before publishing.
