// Runs before each test file, inside the Workers runtime: brings the local D1 up to date.
// applyD1Migrations is idempotent (it records applied migrations in d1_migrations).
import { env, applyD1Migrations } from "cloudflare:test";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
