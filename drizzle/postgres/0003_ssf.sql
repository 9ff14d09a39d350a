CREATE TABLE "ssf_events" (
	"jti" text PRIMARY KEY NOT NULL,
	"stream_id" text NOT NULL,
	"claims" text NOT NULL,
	"created_at_ms" bigint NOT NULL,
	"attempts" integer NOT NULL,
	"next_attempt_at_ms" bigint NOT NULL,
	"claimed_until_ms" bigint
);
--> statement-breakpoint
CREATE TABLE "ssf_feed" (
	"id" text PRIMARY KEY NOT NULL,
	"position" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ssf_streams" (
	"id" text PRIMARY KEY NOT NULL,
	"receiver" text NOT NULL,
	"audience" text NOT NULL,
	"method" text NOT NULL,
	"delivery" text NOT NULL,
	"events_requested" text,
	"events_delivered" text NOT NULL,
	"description" text,
	"status" text NOT NULL,
	"status_reason" text,
	"from_seq" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "ssf_streams_status" CHECK ("ssf_streams"."status" in ('enabled', 'paused', 'disabled'))
);
--> statement-breakpoint
ALTER TABLE "ssf_events" ADD CONSTRAINT "ssf_events_stream_id_ssf_streams_id_fk" FOREIGN KEY ("stream_id") REFERENCES "public"."ssf_streams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ssf_events_due" ON "ssf_events" USING btree ("stream_id","next_attempt_at_ms");--> statement-breakpoint
CREATE INDEX "ssf_events_created" ON "ssf_events" USING btree ("created_at_ms");--> statement-breakpoint
CREATE INDEX "ssf_streams_receiver" ON "ssf_streams" USING btree ("receiver");