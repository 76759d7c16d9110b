from migration_assistant_sdk import MigrationClient

# Initialize client
client = MigrationClient(
    base_url="http://localhost:8000",
    api_key="your-api-key"
)

# Create migration
migration = client.migrations.create({
    "name": "WordPress Migration",
    "source": {"type": "wordpress", "host": "old-server.com"},
    "destination": {"type": "aws-s3", "bucket": "new-bucket"}
})

# Start migration
client.migrations.start(migration.session_id)

# Monitor progress
for update in client.migrations.watch(migration.session_id):
    print(f"Progress: {update.progress}%")
    if update.status in ["completed", "failed"]:
        break

# Get final status
final_status = client.migrations.get_status(migration.session_id)
print(f"Migration {final_status.status}")
