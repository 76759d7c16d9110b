import requests
import json

# API base URL
BASE_URL = "http://localhost:8000"

# Headers with authentication
headers = {
    "Content-Type": "application/json",
    "Authorization": "Bearer your-jwt-token"
}

# Create a migration
migration_config = {
    "name": "WordPress to AWS Migration",
    "source": {
        "type": "wordpress",
        "host": "old-server.com",
        "username": "user",
        "password": "pass",
        "database": {
            "type": "mysql",
            "host": "old-server.com",
            "username": "wp_user",
            "password": "wp_pass",
            "database": "wordpress_db"
        }
    },
    "destination": {
        "type": "aws-s3",
        "region": "us-east-1",
        "bucket": "my-new-website",
        "database": {
            "type": "aurora-mysql",
            "cluster": "my-website-cluster",
            "username": "admin",
            "password": "admin_pass"
        }
    },
    "transfer": {
        "method": "hybrid_sync",
        "options": {
            "compression": True,
            "parallel_transfers": 4
        }
    },
    "safety": {
        "backup_before": True,
        "verify_after": True,
        "rollback_on_failure": True
    }
}

# Create migration session
response = requests.post(
    f"{BASE_URL}/migrations/",
    headers=headers,
    json=migration_config
)

session_data = response.json()
session_id = session_data["session_id"]
print(f"Created migration session: {session_id}")

# Start the migration
response = requests.post(
    f"{BASE_URL}/migrations/{session_id}/start",
    headers=headers,
    json={"auto_rollback": True}
)

print("Migration started!")

# Monitor progress
import time
while True:
    response = requests.get(
        f"{BASE_URL}/migrations/{session_id}/status",
        headers=headers
    )
    status_data = response.json()
    
    print(f"Status: {status_data['status']}, Progress: {status_data['progress']:.1f}%")
    
    if status_data["status"] in ["completed", "failed", "cancelled"]:
        break
    
    time.sleep(5)

print("Migration finished!")
