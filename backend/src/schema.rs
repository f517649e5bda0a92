// Hand-kept in step with migrations/; `tests/migrations.rs` checks every column exists.

diesel::table! {
    orgs (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Int8>,
        founded_on -> Nullable<Date>,
        dissolved_on -> Nullable<Date>,
        term_start -> Nullable<Date>,
        term_end -> Nullable<Date>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    org_closure (ancestor_id, descendant_id) {
        ancestor_id -> Int8,
        descendant_id -> Int8,
        depth -> Int4,
    }
}

diesel::table! {
    people (id) {
        id -> Int8,
        name -> Text,
        name_initials -> Text,
        name_pinyin -> Text,
        gender -> Text,
        id_number_enc -> Nullable<Bytea>,
        id_number_hash -> Nullable<Bytea>,
        id_number_masked -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        ethnicity -> Nullable<Text>,
        native_place -> Nullable<Text>,
        education -> Nullable<Text>,
        degree -> Nullable<Text>,
        job_category -> Nullable<Text>,
        post -> Nullable<Text>,
        title -> Nullable<Text>,
        phone_enc -> Nullable<Bytea>,
        phone_masked -> Nullable<Text>,
        work_started_on -> Nullable<Date>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    members (person_id) {
        person_id -> Int8,
        org_id -> Int8,
        category -> Text,
        joined_at -> Date,
        full_member_at -> Nullable<Date>,
        status -> Text,
        is_flowing -> Bool,
        lost_contact -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    member_history (id) {
        id -> Int8,
        person_id -> Int8,
        org_id -> Int8,
        category -> Text,
        status -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        gender -> Text,
        birth_date -> Nullable<Date>,
        ethnicity -> Nullable<Text>,
        education -> Nullable<Text>,
        job_category -> Nullable<Text>,
        joined_at -> Date,
        full_member_at -> Nullable<Date>,
    }
}

diesel::table! {
    code_lists (list, code) {
        list -> Text,
        code -> Text,
        name -> Text,
        sort_order -> Int4,
    }
}

diesel::table! {
    accounts (id) {
        id -> Int8,
        username -> Text,
        password_hash -> Text,
        person_id -> Nullable<Int8>,
        disabled -> Bool,
        failed_logins -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        locked_until -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        token_version -> Int4,
    }
}

diesel::table! {
    login_throttle_users (username) {
        username -> Text,
        failures -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        locked_until -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    login_throttle_addrs (addr) {
        addr -> Text,
        failures -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    account_login_addrs (account_id, addr) {
        account_id -> Int8,
        addr -> Text,
        last_login_at -> Timestamptz,
    }
}

diesel::table! {
    role_grants (id) {
        id -> Int8,
        account_id -> Int8,
        role -> Text,
        org_id -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Int8,
        account_id -> Int8,
        family -> Text,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamptz,
        account_id -> Nullable<Int8>,
        ip -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Int8>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
    }
}

diesel::table! {
    imports (id) {
        id -> Int8,
        kind -> Text,
        file_name -> Text,
        created_by -> Nullable<Int8>,
        scope_all -> Bool,
        scope_roots -> Array<Int8>,
        created_at -> Timestamptz,
        dry_run -> Bool,
        committed -> Bool,
        rows_read -> Int4,
        created -> Int4,
        updated -> Int4,
        unchanged -> Int4,
        invalid -> Int4,
        report -> Jsonb,
        job_id -> Nullable<Int8>,
        file_deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    import_files (import_id) {
        import_id -> Int8,
        content -> Bytea,
        encrypted -> Bool,
    }
}

diesel::table! {
    jobs (id) {
        id -> Int8,
        kind -> Text,
        payload -> Jsonb,
        status -> Text,
        progress -> Nullable<Jsonb>,
        result -> Nullable<Jsonb>,
        error -> Nullable<Text>,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        locked_by -> Nullable<Text>,
        heartbeat_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    idempotency_keys (account_id, key) {
        account_id -> Int8,
        key -> Text,
        request_hash -> Bytea,
        status -> Int4,
        body -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    meeting_kinds (code) {
        code -> Text,
        name -> Text,
        name_en -> Text,
        frequency -> Text,
        per_period -> Int4,
        org_kinds -> Array<Text>,
        needs_committee -> Bool,
        committee_only -> Bool,
        may_vote -> Bool,
        study_minutes -> Int4,
        sort_order -> Int4,
        builtin -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    org_meeting_rules (org_id, kind) {
        org_id -> Int8,
        kind -> Text,
        frequency -> Text,
        per_period -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    org_life_settings (org_id) {
        org_id -> Int8,
        has_committee -> Nullable<Bool>,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    org_officers (id) {
        id -> Int8,
        org_id -> Int8,
        person_id -> Int8,
        post -> Text,
        since -> Date,
        until -> Nullable<Date>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    meetings (id) {
        id -> Int8,
        org_id -> Int8,
        kind -> Text,
        topic -> Text,
        starts_at -> Timestamptz,
        ends_at -> Nullable<Timestamptz>,
        place -> Nullable<Text>,
        host_person_id -> Nullable<Int8>,
        recorder_person_id -> Nullable<Int8>,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        minutes -> Nullable<Text>,
        resolutions -> Jsonb,
        study_minutes -> Int4,
        archived_at -> Nullable<Timestamptz>,
        archived_by -> Nullable<Int8>,
        created_by -> Nullable<Int8>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    meeting_attendees (meeting_id, person_id) {
        meeting_id -> Int8,
        person_id -> Int8,
        has_vote -> Bool,
        attendance -> Text,
        absence_reason -> Nullable<Text>,
        absence_note -> Nullable<Text>,
        checked_in_by -> Nullable<Text>,
        checked_in_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    meeting_votes (id) {
        id -> Int8,
        meeting_id -> Int8,
        motion -> Text,
        subject -> Text,
        subject_person_id -> Nullable<Int8>,
        voters_due -> Int4,
        voters_present -> Int4,
        yes -> Int4,
        no -> Int4,
        abstain -> Int4,
        quorum_met -> Bool,
        passed -> Bool,
        rule -> Jsonb,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    stored_files (key) {
        key -> Text,
        content -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    meeting_attachments (id) {
        id -> Int8,
        meeting_id -> Int8,
        category -> Text,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> Int8,
        sha256 -> Bytea,
        storage_key -> Text,
        uploaded_by -> Nullable<Int8>,
        uploaded_at -> Timestamptz,
        addendum_id -> Nullable<Int8>,
    }
}

diesel::table! {
    meeting_addenda (id) {
        id -> Int8,
        meeting_id -> Int8,
        body -> Text,
        changes -> Nullable<Jsonb>,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    notifications (id) {
        id -> Int8,
        person_id -> Int8,
        kind -> Text,
        title -> Text,
        body -> Text,
        link -> Nullable<Text>,
        entity -> Nullable<Text>,
        entity_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
        channel -> Text,
        sent_at -> Nullable<Timestamptz>,
        attempts -> Int4,
    }
}

diesel::joinable!(members -> people (person_id));
diesel::joinable!(members -> orgs (org_id));
diesel::joinable!(role_grants -> accounts (account_id));
diesel::joinable!(account_login_addrs -> accounts (account_id));
diesel::joinable!(accounts -> people (person_id));
diesel::joinable!(member_history -> members (person_id));
diesel::joinable!(meetings -> orgs (org_id));
diesel::joinable!(meetings -> meeting_kinds (kind));
diesel::joinable!(meeting_attendees -> meetings (meeting_id));
diesel::joinable!(meeting_attendees -> people (person_id));
diesel::joinable!(meeting_votes -> meetings (meeting_id));
diesel::joinable!(meeting_attachments -> meetings (meeting_id));
diesel::joinable!(meeting_addenda -> meetings (meeting_id));
diesel::joinable!(org_officers -> orgs (org_id));
diesel::joinable!(org_officers -> people (person_id));
diesel::joinable!(notifications -> people (person_id));

diesel::allow_tables_to_appear_in_same_query!(
    orgs,
    org_closure,
    people,
    members,
    member_history,
    code_lists,
    accounts,
    login_throttle_users,
    login_throttle_addrs,
    account_login_addrs,
    role_grants,
    refresh_tokens,
    settings,
    audit_log,
    imports,
    import_files,
    jobs,
    idempotency_keys,
    meeting_kinds,
    org_meeting_rules,
    org_life_settings,
    org_officers,
    meetings,
    meeting_attendees,
    meeting_votes,
    stored_files,
    meeting_attachments,
    meeting_addenda,
    notifications,
);
