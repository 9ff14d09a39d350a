ALTER TABLE "pushed_requests" ADD COLUMN "browser_hash" text;--> statement-breakpoint
ALTER TABLE "pushed_requests" ADD COLUMN "completed_at" bigint;