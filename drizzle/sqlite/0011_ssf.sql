CREATE TABLE `ssf_events` (
	`jti` text PRIMARY KEY NOT NULL,
	`stream_id` text NOT NULL,
	`claims` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at_ms` integer NOT NULL,
	`claimed_until_ms` integer,
	FOREIGN KEY (`stream_id`) REFERENCES `ssf_streams`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ssf_events_due` ON `ssf_events` (`stream_id`,`next_attempt_at_ms`);--> statement-breakpoint
CREATE INDEX `ssf_events_created` ON `ssf_events` (`created_at_ms`);--> statement-breakpoint
CREATE TABLE `ssf_feed` (
	`id` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ssf_streams` (
	`id` text PRIMARY KEY NOT NULL,
	`receiver` text NOT NULL,
	`audience` text NOT NULL,
	`method` text NOT NULL,
	`delivery` text NOT NULL,
	`events_requested` text,
	`events_delivered` text NOT NULL,
	`description` text,
	`status` text NOT NULL,
	`status_reason` text,
	`from_seq` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "ssf_streams_status" CHECK("ssf_streams"."status" in ('enabled', 'paused', 'disabled'))
);
--> statement-breakpoint
CREATE INDEX `ssf_streams_receiver` ON `ssf_streams` (`receiver`);