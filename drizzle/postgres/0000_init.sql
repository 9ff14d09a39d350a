CREATE TABLE "approval_decisions" (
	"request_id" text NOT NULL,
	"approver_sub" text NOT NULL,
	"approver_email" text,
	"decision" text NOT NULL,
	"decided_at" bigint NOT NULL,
	CONSTRAINT "approval_decisions_request_id_approver_sub_pk" PRIMARY KEY("request_id","approver_sub")
);
--> statement-breakpoint
CREATE TABLE "approval_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"poll_hash" text NOT NULL,
	"user_code_hash" text,
	"kind" text NOT NULL,
	"client_id" text NOT NULL,
	"sub" text,
	"request" text NOT NULL,
	"approvers" text NOT NULL,
	"status" text NOT NULL,
	"interval_seconds" integer NOT NULL,
	"last_polled_at" bigint,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"decided_at" bigint,
	CONSTRAINT "approval_requests_poll_hash_unique" UNIQUE("poll_hash"),
	CONSTRAINT "approval_requests_user_code_hash_unique" UNIQUE("user_code_hash")
);
--> statement-breakpoint
CREATE TABLE "audit_records" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"at_ms" bigint NOT NULL,
	"event" text NOT NULL,
	"client_id" text,
	"subject" text,
	"token_jti" text,
	"details" text NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_records_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "authorization_codes" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"family_id" text NOT NULL,
	"grant" text NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint
);
--> statement-breakpoint
CREATE TABLE "authorization_requests" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"browser_hash" text NOT NULL,
	"client_id" text NOT NULL,
	"request" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consent_grants" (
	"sub" text NOT NULL,
	"client_id" text NOT NULL,
	"scopes" text NOT NULL,
	"resources" text NOT NULL,
	"details_types" text NOT NULL,
	"granted_at" bigint NOT NULL,
	CONSTRAINT "consent_grants_sub_client_id_pk" PRIMARY KEY("sub","client_id")
);
--> statement-breakpoint
CREATE TABLE "delegations" (
	"did" text PRIMARY KEY NOT NULL,
	"sub" text NOT NULL,
	"client_id" text NOT NULL,
	"resource" text,
	"origin" text NOT NULL,
	"root_jti" text,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"revoked_at" bigint,
	"revoked_by" text,
	"budget_uses" integer,
	"budget_amount" bigint,
	"budget_currency" text,
	"used_uses" integer DEFAULT 0 NOT NULL,
	"used_amount" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dynamic_clients" (
	"client_id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"client" text NOT NULL,
	"refresh_at" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "family_passports" (
	"family_id" text NOT NULL,
	"jti" text NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "family_passports_family_id_jti_pk" PRIMARY KEY("family_id","jti")
);
--> statement-breakpoint
CREATE TABLE "passport_links" (
	"jti" text PRIMARY KEY NOT NULL,
	"parent_jti" text,
	"did" text,
	"client_id" text NOT NULL,
	"sub" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pending_logins" (
	"state_hash" text PRIMARY KEY NOT NULL,
	"browser_hash" text NOT NULL,
	"upstream_id" text NOT NULL,
	"nonce" text NOT NULL,
	"code_verifier" text NOT NULL,
	"return_to" text NOT NULL,
	"acr_values" text,
	"max_age" integer,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pushed_requests" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"params" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "refresh_tokens" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"family_id" text NOT NULL,
	"client_id" text NOT NULL,
	"grant" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint
);
--> statement-breakpoint
CREATE TABLE "revoked_tokens" (
	"jti" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"expires_at" bigint NOT NULL,
	"revoked_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "server_secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"sid" text DEFAULT '' NOT NULL,
	"sub" text NOT NULL,
	"upstream_id" text NOT NULL,
	"claims" text NOT NULL,
	"auth_time" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"public_jwk" text NOT NULL,
	"private_jwk" text NOT NULL,
	"created_at" bigint NOT NULL,
	"activates_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subjects" (
	"sub" text PRIMARY KEY NOT NULL,
	"email" text,
	"claims" text,
	"created_at" bigint NOT NULL,
	"last_login_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "token_families" (
	"id" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"sub" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"revoked_at" bigint
);
--> statement-breakpoint
CREATE TABLE "upstream_accounts" (
	"orig_iss" text NOT NULL,
	"orig_sub" text NOT NULL,
	"upstream_id" text NOT NULL,
	"sub" text NOT NULL,
	"email" text,
	"first_seen_at" bigint NOT NULL,
	"last_login_at" bigint NOT NULL,
	CONSTRAINT "upstream_accounts_orig_iss_orig_sub_pk" PRIMARY KEY("orig_iss","orig_sub")
);
--> statement-breakpoint
CREATE TABLE "used_ids" (
	"scope" text NOT NULL,
	"id" text NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "used_ids_scope_id_pk" PRIMARY KEY("scope","id")
);
--> statement-breakpoint
ALTER TABLE "upstream_accounts" ADD CONSTRAINT "upstream_accounts_sub_subjects_sub_fk" FOREIGN KEY ("sub") REFERENCES "public"."subjects"("sub") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approval_requests_status" ON "approval_requests" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "approval_requests_sub" ON "approval_requests" USING btree ("sub");--> statement-breakpoint
CREATE INDEX "approval_requests_expires" ON "approval_requests" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "authorization_codes_expires" ON "authorization_codes" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "authorization_requests_expires" ON "authorization_requests" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "delegations_sub" ON "delegations" USING btree ("sub");--> statement-breakpoint
CREATE INDEX "delegations_client" ON "delegations" USING btree ("client_id");--> statement-breakpoint
CREATE INDEX "delegations_expires" ON "delegations" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "dynamic_clients_source" ON "dynamic_clients" USING btree ("source");--> statement-breakpoint
CREATE INDEX "family_passports_expires" ON "family_passports" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "passport_links_parent" ON "passport_links" USING btree ("parent_jti");--> statement-breakpoint
CREATE INDEX "passport_links_did" ON "passport_links" USING btree ("did");--> statement-breakpoint
CREATE INDEX "passport_links_expires" ON "passport_links" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "pending_logins_expires" ON "pending_logins" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "pushed_requests_expires" ON "pushed_requests" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "refresh_tokens_family" ON "refresh_tokens" USING btree ("family_id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_expires" ON "refresh_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "revoked_tokens_expires" ON "revoked_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "sessions_sub" ON "sessions" USING btree ("sub");--> statement-breakpoint
CREATE INDEX "sessions_expires" ON "sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "subjects_email" ON "subjects" USING btree ("email");--> statement-breakpoint
CREATE INDEX "token_families_sub_client" ON "token_families" USING btree ("sub","client_id");--> statement-breakpoint
CREATE INDEX "token_families_expires" ON "token_families" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "upstream_accounts_sub" ON "upstream_accounts" USING btree ("sub");--> statement-breakpoint
CREATE INDEX "used_ids_expires" ON "used_ids" USING btree ("expires_at");