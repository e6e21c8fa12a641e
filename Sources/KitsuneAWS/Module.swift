// KitsuneAWS
