PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_audit_records` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`at_ms` integer NOT NULL,
	`event` text NOT NULL,
	`client_id` text,
	`subject` text,
	`token_jti` text,
	`details` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_audit_records`("seq", "id", "at_ms", "event", "client_id", "subject", "token_jti", "details", "prev_hash", "hash") SELECT "seq", "id", "at_ms", "event", "client_id", "subject", "token_jti", "details", "prev_hash", "hash" FROM `audit_records`;--> statement-breakpoint
DROP TABLE `audit_records`;--> statement-breakpoint
ALTER TABLE `__new_audit_records` RENAME TO `audit_records`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_records_id_unique` ON `audit_records` (`id`);