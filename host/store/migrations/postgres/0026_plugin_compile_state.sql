-- Uploads answer before their component is compiled (a JavaScript or Python component takes seconds of Cranelift):
-- each version records where its compile is. `compiling` until the background compile ends, then `ready` or
-- `failed` with `state_reason` (why it does not load). A host that starts finds the versions left `compiling` and
-- compiles them again. `activate_when_ready` is an upload's `activate=true` still waiting for its compile, so a
-- restart does not forget it either. Versions stored before this migration were compiled in the upload request.
ALTER TABLE plugin_versions ADD COLUMN state TEXT NOT NULL DEFAULT 'ready';
ALTER TABLE plugin_versions ADD COLUMN state_reason TEXT;
ALTER TABLE plugin_versions ADD COLUMN activate_when_ready BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX plugin_versions_compiling ON plugin_versions (state) WHERE state = 'compiling';
