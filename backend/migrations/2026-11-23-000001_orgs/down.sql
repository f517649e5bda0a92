DROP TABLE org_closure;
DROP TABLE orgs;
DROP FUNCTION org_closure_on_move();
DROP FUNCTION org_closure_on_insert();
