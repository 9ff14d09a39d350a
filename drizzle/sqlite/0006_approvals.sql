CREATE TABLE `approval_decisions` (
	`request_id` text NOT NULL,
	`approver_sub` text NOT NULL,
	`approver_email` text,
	`decision` text NOT NULL,
	`decided_at` integer NOT NULL,
	PRIMARY KEY(`request_id`, `approver_sub`)
);
--> statement-breakpoint
CREATE TABLE `approval_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`poll_hash` text NOT NULL,
	`user_code_hash` text,
	`kind` text NOT NULL,
	`client_id` text NOT NULL,
	`sub` text,
	`request` text NOT NULL,
	`approvers` text NOT NULL,
	`status` text NOT NULL,
	`interval_seconds` integer NOT NULL,
	`last_polled_at` integer,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`decided_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `approval_requests_poll_hash_unique` ON `approval_requests` (`poll_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `approval_requests_user_code_hash_unique` ON `approval_requests` (`user_code_hash`);--> statement-breakpoint
CREATE INDEX `approval_requests_status` ON `approval_requests` (`status`,`expires_at`);--> statement-breakpoint
CREATE INDEX `approval_requests_sub` ON `approval_requests` (`sub`);--> statement-breakpoint
CREATE INDEX `approval_requests_expires` ON `approval_requests` (`expires_at`);