// JavaScript WebSocket client
const ws = new WebSocket('ws://localhost:8000/ws/migrations/abc123def456');

ws.onmessage = function(event) {
    const data = JSON.parse(event.data);
    console.log('Progress update:', data);
    
    // Update UI with progress
    updateProgressBar(data.progress);
    updateCurrentStep(data.current_step);
    updateMetrics(data.performance_metrics);
};

ws.onopen = function(event) {
    console.log('Connected to migration progress stream');
};

ws.onclose = function(event) {
    console.log('Disconnected from progress stream');
};
