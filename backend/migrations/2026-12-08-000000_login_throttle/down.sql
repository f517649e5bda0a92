UPDATE accounts a SET failed_logins = t.failures, next_attempt_at = t.next_attempt_at, locked_until = t.locked_until
FROM login_throttle_users t WHERE t.username = a.username;
DROP TABLE account_login_addrs;
DROP TABLE login_throttle_addrs;
DROP TABLE login_throttle_users;
