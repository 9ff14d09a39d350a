ALTER TABLE `pushed_requests` ADD `browser_hash` text;--> statement-breakpoint
ALTER TABLE `pushed_requests` ADD `completed_at` integer;