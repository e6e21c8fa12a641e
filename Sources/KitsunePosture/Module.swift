// KitsunePosture
