//! Store and limiter locations with their passwords hidden, for every
//! message that names one: a URL like `postgres://user:pw@host/db` is shown
//! as `postgres://user:***@host/db`.

/// `location` with any password replaced by `***`: the one in a URL's user
/// information (`scheme://user:PASSWORD@host`) and the value of any
/// `password=` parameter (a URL's query or a `key=value` connection
/// string). Anything else is kept, so the result still says which server.
pub fn redact_url(location: &str) -> String {
    let mut shown = String::with_capacity(location.len());
    match location.find("://") {
        Some(scheme_end) => {
            let authority_start = scheme_end + 3;
            let rest = &location[authority_start..];
            // The user information ends at the last `@` before the query:
            // a password with an unencoded `/` or `@` is still hidden whole.
            let query_start = rest.find(['?', '#']).unwrap_or(rest.len());
            let authority_len = match rest[..query_start].rfind('@') {
                Some(at) => at + rest[at..].find(['/', '?', '#']).unwrap_or(rest.len() - at),
                None => rest.find(['/', '?', '#']).unwrap_or(rest.len()),
            };
            let authority = &rest[..authority_len];
            shown.push_str(&location[..authority_start]);
            match authority.rfind('@') {
                Some(at) => {
                    let userinfo = &authority[..at];
                    match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            shown.push_str(user);
                            shown.push_str(":***");
                        }
                        None => shown.push_str(userinfo),
                    }
                    shown.push_str(&authority[at..]);
                }
                None => shown.push_str(authority),
            }
            shown.push_str(&redact_password_parameters(&rest[authority_len..]));
        }
        None => shown.push_str(&redact_password_parameters(location)),
    }
    shown
}

/// `text` with the value of every `password=` parameter replaced by `***`;
/// a value ends at `&`, `#` or white space.
fn redact_password_parameters(text: &str) -> String {
    const KEY: &str = "password=";
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.to_ascii_lowercase().find(KEY) {
        let value_start = found + KEY.len();
        shown.push_str(&rest[..value_start]);
        let value = &rest[value_start..];
        let value_len = value
            .find(|c: char| c == '&' || c == '#' || c.is_whitespace())
            .unwrap_or(value.len());
        if value_len > 0 {
            shown.push_str("***");
        }
        rest = &value[value_len..];
    }
    shown.push_str(rest);
    shown
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden_and_the_server_is_kept() {
        for (location, shown) in [
            (
                "postgres://ada:s3cr%40t@db.example:5432/tokens?sslmode=require",
                "postgres://ada:***@db.example:5432/tokens?sslmode=require",
            ),
            (
                "postgresql://ada:p@ss:word@[::1]/tokens",
                "postgresql://ada:***@[::1]/tokens",
            ),
            (
                "redis://:pw@127.0.0.1:6379/",
                "redis://:***@127.0.0.1:6379/",
            ),
            (
                "postgres://ada@host/db?password=hunter2&sslmode=disable",
                "postgres://ada@host/db?password=***&sslmode=disable",
            ),
            (
                "host=db user=ada PASSWORD=hunter2 dbname=x",
                "host=db user=ada PASSWORD=*** dbname=x",
            ),
            ("postgres://host/db", "postgres://host/db"),
            ("postgres://ada:pa/ss@host/db", "postgres://ada:***@host/db"),
            ("/var/lib/tokens.sqlite3", "/var/lib/tokens.sqlite3"),
            ("sqlite:tokens.sqlite3", "sqlite:tokens.sqlite3"),
        ] {
            assert_eq!(redact_url(location), shown, "{location}");
        }
    }
}
